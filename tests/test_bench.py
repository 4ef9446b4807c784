"""The benchmark at county scale: it builds, publishes, times every page and reports."""

import io
import json

from metrics import bench


def test_bench_county_scale():
    result = bench.run(scale="county", repeats=1)
    json.dumps(result)  # JSON-able, as `python -m metrics bench --json` needs

    for key in ("scale", "repeats", "hierarchy", "elements", "facts", "generate_s", "publish_s",
                "publish_phases_s", "parquet_bytes", "rollup_bytes", "rollup_rows", "peak_rss_mb",
                "query", "pages", "pass", "total_s"):
        assert key in result, key
    assert result["scale"] == "county"
    assert result["hierarchy"]["levels"]["county"] == 1
    assert 100 <= result["hierarchy"]["levels"]["village"] <= 250
    # ≈ 10⁵ facts: villages × data elements × 20 quarters (+ benchmark series at the top)
    expected = result["hierarchy"]["levels"]["village"] * result["elements"]["data"] * 20
    assert result["facts"] == expected + result["elements"]["benchmark"] * 20
    assert 5e4 <= result["facts"] <= 5e5
    assert result["publish_s"] > 0 and result["parquet_bytes"] > 0 and result["rollup_rows"] > 0
    assert result["peak_rss_mb"] > 0

    for page in ("overview", "indicator", "comparison"):
        p = result["pages"][page]
        assert p["total"]["median_ms"] > 0 and p["total"]["p95_ms"] >= p["total"]["median_ms"]
        assert isinstance(p["pass"], bool) and p["budget_ms"] == 100
        for stats in p["calls"].values():
            assert stats["median_ms"] > 0
    overview = result["pages"]["overview"]
    assert set(overview["calls"]) == {"assess_overview(top)"}   # what the page calls
    assert set(result["pages"]["comparison"]["calls"]) == {"assess_subregions(county)"}

    out = io.StringIO()
    bench.print_report(result, file=out)
    text = out.getvalue()
    assert "overview" in text and ("PASS" in text or "FAIL" in text)


def test_synthetic_codes_do_not_collide_with_demo():
    h = bench.make_hierarchy("county")
    assert all(len(code) == 12 and code.startswith("98") for code in h.by_code)
    assert h.root.level == "county" and all(r.level == "village" for r in h.leaves())
