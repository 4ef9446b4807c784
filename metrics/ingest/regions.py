"""Region hierarchy import: replace the demo hierarchy with the real one (code, name, level, parent).

Validated like data, with line numbers: duplicate codes, unknown parents, cycles, a code that
does not extend its parent's, unknown levels. Real hierarchies have several roots (the
provinces: they are placed under one synthetic 全国 root), skip levels (districts directly
under a municipality) and repeat names (several 新华区): all of that imports. Regions that
disappear keep their history: facts are never deleted, the store is rebuilt on the new tree.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from metrics.auth import User, audit, require
from metrics.ingest import report as rp
from metrics.ingest.read import UnreadableFile, norm_header, read_sheets
from metrics.ingest.text import TEXT
from metrics.regions import LEVELS, Hierarchy, Region

SYNTHETIC_ROOT = ("000000000000", "全国", "nation", "Nation")
COLUMNS = {"code": {"code", "区划代码", "统计用区划代码", "代码", "region_code"},
           "name": {"name", "名称", "地区名称", "region_name"},
           "level": {"level", "层级", "级别", "城乡分类"},
           "parent": {"parent", "parent_code", "上级代码", "上级区划代码", "上级"},
           "name_en": {"name_en", "英文名称"}}
LEVEL_WORDS = {
    "nation": {"nation", "全国", "国家"},
    "province": {"province", "省", "省级", "自治区", "直辖市", "省（自治区）"},
    "city": {"city", "市", "地级", "地级市", "盟", "州", "自治州", "市（盟）", "地区"},
    "county": {"county", "县", "县级", "旗", "区", "县级市", "市辖区", "自治县", "自治旗", "县（旗）"},
    "township": {"township", "乡", "镇", "乡镇", "街道", "苏木", "乡级", "乡镇（苏木）"},
    "village": {"village", "村", "社区", "嘎查", "村委会", "居委会", "村级", "村（嘎查）"},
}
_LEVEL_OF = {norm_header(w): lv for lv, words in LEVEL_WORDS.items() for w in words}


@dataclass
class RegionImport:
    source_name: str
    sha256: str
    regions: pd.DataFrame = field(default_factory=pd.DataFrame)   # code, name, level, parent, name_en
    errors: pd.DataFrame = field(default_factory=rp.empty_issues)
    fatal: str | None = None
    roots: int = 0

    @property
    def ok(self) -> bool:
        return self.fatal is None and self.errors.empty and len(self.regions) > 0

    def to_dict(self, lang: str = "zh") -> dict:
        errors = rp.Report(self.source_name, self.sha256).issue_list(self.errors, lang)
        if self.fatal:
            errors.insert(0, {"row": 0, "sheet": "", "column": "", "code": "unreadable_file", "message": self.fatal})
        return {"ok": self.ok, "file": self.source_name, "regions": int(len(self.regions)), "roots": self.roots,
                "errors": errors}

    def hierarchy(self) -> Hierarchy:
        return Hierarchy([Region(code=r.code, name=r.name, level=r.level, parent=r.parent or None,
                                 name_en=r.name_en) for r in self.regions.itertuples()])


def _table(data: bytes) -> pd.DataFrame:
    sheet = next(s for s in read_sheets(data) if not s.cells.empty)
    cells = sheet.cells
    header = [norm_header(c) for c in cells.iloc[0].tolist()]
    cols = {}
    for role, names in COLUMNS.items():
        for j, h in enumerate(header):
            if h in {norm_header(n) for n in names} and role not in cols:
                cols[role] = j
    body = cells.iloc[1:]
    out = pd.DataFrame({role: body[j].astype(str).str.strip() for role, j in cols.items()})
    out["line"] = body.index.to_numpy() + 1
    return out


def check(data: bytes, source_name: str) -> RegionImport:
    result = RegionImport(source_name, hashlib.sha256(data).hexdigest())
    try:
        table = _table(data)
    except (UnreadableFile, StopIteration) as exc:
        key = exc.key if isinstance(exc, UnreadableFile) else "msg_empty_file"
        values = {"value": source_name, **({k: str(v) for k, v in exc.values.items()} if isinstance(exc, UnreadableFile) else {})}
        result.fatal = rp.fill(TEXT[key][0], 1, **values)[0]
        return result
    missing = [c for c in ("code", "name", "level", "parent") if c not in table]
    if missing:
        result.errors = rp.concat_issues([rp.issues("missing_column", row=[1], column=c, value=c) for c in missing])
        return result
    if "name_en" not in table:
        table["name_en"] = ""
    t = table[(table[["code", "name", "level", "parent"]] != "").any(axis=1)].reset_index(drop=True)
    t["code"] = t["code"].str.replace(r"\.0$", "", regex=True)
    t["parent"] = t["parent"].str.replace(r"\.0$", "", regex=True)
    raw_level = t["level"].copy()
    t["level"] = t["level"].map(lambda s: _LEVEL_OF.get(norm_header(s), ""))
    errors = []

    def flag(code: str, mask, column: str, key: str | None = None, **values) -> None:
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            m = pd.Series(mask, index=t.index)
            errors.append(rp.issues(code, row=t["line"][m], column=column, key=key,
                                    **{k: (x[m] if isinstance(x, pd.Series) else x) for k, x in values.items()}))

    flag("bad_code", ~t["code"].str.fullmatch(r"\d+"), "code", key="msg_bad_code", value=t["code"])
    flag("bad_level", t["level"] == "", "level", key="msg_bad_level", value=raw_level)
    dup = t["code"].duplicated(keep="first")
    first = t.groupby("code")["line"].transform("min")
    flag("duplicate_code", dup, "code", key="msg_duplicate_code", value=t["code"], first=first)
    unique = t[~dup]
    known = set(unique["code"])
    has_parent = t["parent"] != ""
    flag("unknown_parent", has_parent & ~t["parent"].isin(known), "parent", key="msg_unknown_parent", value=t["parent"])
    prefix = t["parent"].str.rstrip("0")
    extends = pd.Series([c.startswith(p) and c != pa for c, p, pa in zip(t["code"], prefix, t["parent"])], index=t.index)
    flag("code_not_under_parent", has_parent & t["parent"].isin(known) & ~extends, "code",
         key="msg_code_not_under_parent", value=t["code"], other=t["parent"])
    rank = {lv: i for i, lv in enumerate(LEVELS)}
    level_of = dict(zip(unique["code"], unique["level"]))
    parent_rank = t["parent"].map(lambda p: rank.get(level_of.get(p, ""), -1))
    child_rank = t["level"].map(lambda lv: rank.get(lv, 99))
    flag("level_not_below_parent", has_parent & (parent_rank >= 0) & (child_rank <= parent_rank), "level",
         key="msg_level_not_below_parent", value=t["code"], other=t["parent"])
    flag("cycle", _in_cycle(unique, t), "parent", key="msg_cycle", value=t["code"])
    result.errors = rp.concat_issues(errors)
    roots = unique[unique["parent"] == ""]
    result.roots = len(roots)
    regions = unique[["code", "name", "level", "parent", "name_en"]].copy()
    if result.errors.empty and len(roots) != 1:
        code, name, level, name_en = SYNTHETIC_ROOT
        regions.loc[regions["parent"] == "", "parent"] = code
        regions = pd.concat([pd.DataFrame([{"code": code, "name": name, "level": level, "parent": "",
                                            "name_en": name_en}]), regions], ignore_index=True)
    result.regions = regions.reset_index(drop=True)
    return result


def _in_cycle(unique: pd.DataFrame, t: pd.DataFrame) -> np.ndarray:
    """Rows whose chain of parents never reaches a root (pointer doubling, no per-row walk)."""
    index = {c: i for i, c in enumerate(unique["code"])}
    parent = np.array([index.get(p, -1) for p in unique["parent"]], dtype=np.int64)
    jump = parent.copy()
    for _ in range(int(np.ceil(np.log2(max(len(parent), 2)))) + 1):
        jump = np.where(jump >= 0, jump[np.maximum(jump, 0)], -1)
    stuck = set(unique["code"][jump >= 0])
    return (t["code"].isin(stuck) & ~t["code"].duplicated(keep="first")).to_numpy()


def install(store, result: RegionImport, *, user: User) -> Hierarchy:
    """Make the imported hierarchy live (admin): keep the previous file, write atomically, rebuild."""
    require(user, "admin")
    if not result.ok:
        raise ValueError("区划表有错误，未导入")
    hierarchy = result.hierarchy()   # refuses anything the loader would refuse
    data_dir = Path(store.dir)
    live = data_dir / "regions.csv"
    history = data_dir / "regions_history"
    history.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
    if live.exists():
        (history / f"regions-{stamp}.csv").write_bytes(live.read_bytes())
    tmp = live.with_name(f".regions.csv.tmp-{os.getpid()}")
    result.regions.to_csv(tmp, index=False, encoding="utf-8")
    os.replace(tmp, live)
    audit.record(data_dir, user, "regions_import", file=Path(result.source_name).name, sha256=result.sha256,
                 regions=int(len(result.regions)), roots=result.roots)
    from metrics.ingest import adapter
    adapter.rebuild(store, user=user)
    return hierarchy
