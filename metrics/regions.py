"""The administrative hierarchy, loaded from a CSV (code, name, level, parent).

Regions are numbered in hierarchy (pre-)order, so "everything under X" is the id range
``[X.order, X.order_end)``: the store uses it to select sub-trees without a join.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from metrics import paths

LEVELS = ("nation", "province", "city", "county", "township", "village")
LEVEL_NAMES_ZH = {
    "nation": "全国", "province": "省（自治区）", "city": "市（盟）",
    "county": "县（旗）", "township": "乡镇（苏木）", "village": "村（嘎查）",
}
REQUIRED_COLUMNS = ("code", "name", "level", "parent")


class RegionFileError(ValueError):
    """A region CSV that cannot be loaded; the message is for the user (Chinese)."""


@dataclass(slots=True)     # 5·10⁵ of them at national scale: ~120 MB less without a __dict__ each
class Region:
    code: str
    name: str
    level: str
    parent: str | None
    name_en: str = ""
    children: list[str] = field(default_factory=list)
    order: int = 0       # pre-order number
    order_end: int = 0   # one past the last descendant's number


class Hierarchy:
    def __init__(self, regions: list[Region]):
        self.by_code: dict[str, Region] = {r.code: r for r in regions}
        roots = [r for r in regions if not r.parent]
        if len(roots) != 1:
            raise RegionFileError(f"区划表必须恰好有一个顶级地区（parent 为空），实际有 {len(roots)} 个")
        self.root = roots[0]
        for r in regions:
            if r.parent:
                self.by_code[r.parent].children.append(r.code)
        for r in regions:
            r.children.sort()
        self._number()

    def _number(self) -> None:
        counter = 0
        stack: list[tuple[str, bool]] = [(self.root.code, False)]
        while stack:
            code, done = stack.pop()
            region = self.by_code[code]
            if done:
                region.order_end = counter
                continue
            region.order = counter
            counter += 1
            stack.append((code, True))
            stack.extend((c, False) for c in reversed(region.children))

    def __contains__(self, code: str) -> bool:
        return code in self.by_code

    def __getitem__(self, code: str) -> Region:
        return self.by_code[code]

    def __len__(self) -> int:
        return len(self.by_code)

    def children(self, code: str) -> list[Region]:
        return [self.by_code[c] for c in self.by_code[code].children]

    def ancestors(self, code: str) -> list[Region]:
        """Parent, grandparent, … up to the root (excluding ``code`` itself)."""
        out, region = [], self.by_code[code]
        while region.parent:
            region = self.by_code[region.parent]
            out.append(region)
        return out

    def path(self, code: str) -> list[Region]:
        """Root … code."""
        return list(reversed(self.ancestors(code))) + [self.by_code[code]]

    def descendants(self, code: str, level: str | None = None) -> list[Region]:
        lo, hi = self.by_code[code].order, self.by_code[code].order_end
        return [r for r in self.in_order() if lo < r.order < hi and (level is None or r.level == level)]

    def in_order(self) -> list[Region]:
        return sorted(self.by_code.values(), key=lambda r: r.order)

    def leaves(self) -> list[Region]:
        return [r for r in self.in_order() if not r.children]

    def by_name(self, name: str) -> list[Region]:
        name = name.strip()
        return [r for r in self.by_code.values() if r.name == name]

    def to_rows(self) -> list[dict]:
        return [
            {"code": r.code, "name": r.name, "level": r.level, "parent": r.parent or "",
             "name_en": r.name_en, "order": r.order, "order_end": r.order_end}
            for r in self.in_order()
        ]


def parse_regions_csv(text: str) -> Hierarchy:
    """Parse and check a region CSV; raise ``RegionFileError`` with a Chinese message."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise RegionFileError(f"区划表缺少列：{', '.join(missing)}（需要 code,name,level,parent）")
    regions: list[Region] = []
    seen: set[str] = set()
    for lineno, row in enumerate(reader, start=2):
        code = (row.get("code") or "").strip()
        if not code:
            continue
        if not code.isdigit():
            raise RegionFileError(f"第 {lineno} 行：区划代码必须是数字：{code}")
        if code in seen:
            raise RegionFileError(f"第 {lineno} 行：区划代码重复：{code}")
        level = (row.get("level") or "").strip()
        if level not in LEVELS:
            raise RegionFileError(f"第 {lineno} 行：未知层级 {level}（可用：{'、'.join(LEVELS)}）")
        seen.add(code)
        regions.append(Region(code=code, name=(row.get("name") or "").strip(), level=level,
                              parent=(row.get("parent") or "").strip() or None,
                              name_en=(row.get("name_en") or "").strip()))
    level_of = {r.code: r.level for r in regions}
    for r in regions:
        if r.parent and r.parent not in level_of:
            raise RegionFileError(f"地区 {r.code} 的上级 {r.parent} 不在区划表中")
        if r.parent and LEVELS.index(r.level) <= LEVELS.index(level_of[r.parent]):
            raise RegionFileError(f"地区 {r.code} 的层级不低于其上级 {r.parent}")
    return Hierarchy(regions)


def regions_file(data_dir: Path) -> Path:
    """The live hierarchy: ``<data_dir>/regions.csv`` if imported, else the shipped demo one."""
    live = Path(data_dir) / "regions.csv"
    return live if live.exists() else paths.DEMO_REGIONS_CSV


def load_hierarchy(data_dir: Path | None = None) -> Hierarchy:
    path = regions_file(data_dir or paths.data_dir())
    return parse_regions_csv(path.read_text(encoding="utf-8"))
