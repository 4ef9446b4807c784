"""UI strings of metrics.export, merged into metrics.i18n.TEXT: key -> (中文, English).

Imports nothing from the project (i18n imports this module).
"""

TEXT: dict[str, tuple[str, str]] = {
    # chart export
    "export_no_browser": (
        "无法导出图表：本机没有找到 Chromium 浏览器（导出由 kaleido 调用 Chromium 渲染）{path}。"
        "请管理员安装：sudo apt-get install chromium；或设置环境变量 BROWSER_PATH 指向已安装的 Chromium/Chrome。",
        "Charts cannot be exported: no Chromium browser was found (kaleido renders exports in Chromium){path}. "
        "Ask an administrator to run: sudo apt-get install chromium, or set BROWSER_PATH to an installed Chromium/Chrome."),
    "export_browser_failed": (
        "图表导出失败：Chromium（{path}）无法启动：{error}。请检查浏览器安装（sudo apt-get install chromium）。",
        "Chart export failed: Chromium ({path}) did not start: {error}. Check the browser installation "
        "(sudo apt-get install chromium)."),
    "export_no_font": (
        "无法导出图表：本机没有安装中文字体 {font}，导出的图中文字会被替换或显示为方框。请管理员安装：sudo apt-get install fonts-noto-cjk。",
        "Charts cannot be exported: the Chinese font {font} is not installed, so Chinese text would be substituted "
        "or drawn as boxes. Ask an administrator to run: sudo apt-get install fonts-noto-cjk."),
    "export_failed": ("导出失败：{error}", "Export failed: {error}"),
    "export_chart": ("导出图表", "Export chart"),
    "export_hint": ("服务器端渲染，打印分辨率（A4 版心宽，300 dpi）；标题注明地区、季度和数据版本。",
                    "Rendered on the server at print resolution (A4 text width, 300 dpi); the title names region, quarter and snapshot."),
    "export_dl_png": ("PNG 图片", "PNG image"),
    "export_dl_svg": ("SVG 矢量图", "SVG vector"),
    "export_dl_pdf": ("PDF 文件", "PDF file"),
    # tables
    "export_col_code": ("地区代码", "Region code"),
    "export_col_unit": ("单位", "Unit"),
    "export_col_reason": ("状态说明", "Reason"),
    "export_col_target_year": ("目标年份", "Target year"),
    "export_col_no": ("序号", "No."),
    # report
    "report_page": ("报告", "Report"),
    "report_title": ("{region}乡村振兴目标监测评估报告", "Rural Revitalization Target Assessment: {region}"),
    "report_subtitle": ("{period} · {plan}", "{period} · {plan}"),
    "report_generated": ("生成日期", "Generated"),
    "report_snapshot": ("数据版本", "Data snapshot"),
    "report_snapshot_value": ("{version}（截至第 {id} 号数据版本，{when}）", "{version} (as of snapshot #{id}, {when})"),
    "report_as_of": ("（历史版本视图）", " (as-of view)"),
    "report_demo": ("演示数据：本报告中的数字均为合成数据，地区为虚构，不代表任何真实地方。",
                    "Demo data: every number in this report is synthetic and the regions are fictional."),
    "report_illustrative": ("示例规划：目标为演示用示例，非真实政策。", "Illustrative plan: its targets are examples, not real policy."),
    "report_sec_summary": ("一、总体情况", "1. Summary"),
    "report_sec_table": ("二、指标评估总表", "2. All indicators"),
    "report_sec_pillars": ("三、分领域情况", "3. By pillar"),
    "report_sec_lagging": ("四、滞后指标与下级地区", "4. Lagging indicators and sub-regions"),
    "report_sec_method": ("五、数据来源与评估方法", "5. Data provenance and method"),
    "report_sec_appendix": ("附录：目标出处", "Appendix: sources of the targets"),
    "report_section_summary": ("总体情况", "Summary"),
    "report_section_table": ("指标评估总表", "All indicators"),
    "report_section_pillars": ("分领域情况（含图表）", "By pillar (with charts)"),
    "report_section_lagging": ("滞后指标与下级地区", "Lagging indicators and sub-regions"),
    "report_section_method": ("数据来源与评估方法", "Provenance and method"),
    "report_section_appendix": ("附录：目标出处", "Appendix: target sources"),
    "report_headline": ("截至{period}，{region}{n_target}个有目标的指标中，{parts}。",
                 "As of {period}, of {region}'s {n_target} indicators with a target, {parts}."),
    "report_headline_part": ("{status}{n}个", "{n} {status}"),
    "report_headline_watch": ("最需关注：{names}。", "Most in need of attention: {names}."),
    "report_headline_none_lagging": ("没有滞后的指标。", "No indicator is lagging."),
    "report_headline_no_target": ("另有{n}个指标无目标，仅列示数值。", "{n} more indicators have no target and are listed for their values."),
    "report_count_col": ("指标数", "Indicators"),
    "report_share_col": ("占比", "Share"),
    "report_pillar_heatmap": ("{pillar}：下级地区状态", "{pillar}: sub-region statuses"),
    "report_pillar_path": ("{name}：实际与目标路径", "{name}: actual vs target path"),
    "report_pillar_none": ("本领域没有滞后的指标。", "No lagging indicator in this pillar."),
    "report_lagging_ind": ("滞后指标（按严重程度排序）", "Lagging indicators (worst first)"),
    "report_lagging_reg": ("下级地区（按差距排序）", "Sub-regions (largest gap first)"),
    "report_no_lagging": ("没有滞后的指标。", "No lagging indicators."),
    "report_prov_intro": ("本报告的数字来自以下已发布的数据版本（每个数值取含有该数值的最新未撤回版本）：",
                   "The numbers come from these published snapshots (each value from the newest non-retracted snapshot holding it):"),
    "report_prov_rows": ("行数", "Rows"),
    "report_method_title": ("评估方法", "Method of assessment"),
    "report_method_text": (
        "每个指标以规划基期值为起点 b、目标值为 g、目标期为 T。按已过季度占基期至目标期季度数的比例 f，"
        "计算当期应达值 e = b + (g − b)·f（年度任务类：已完成年度任务之和加本年任务按季度折算；"
        "进度安排类：按日期插值；对比基准类：当期基准值）。进度比 p = (v − b)/(e − b)，v 为当期实际值。"
        "状态：实际值已达到目标为“已达标”（目标为100%的比率差距在0.5个百分点以内视为达到）；"
        "p ≥ {on_track} 或按最近8个季度的线性趋势可在目标期达到目标为“正常推进”；"
        "{accelerate} ≤ p < {on_track} 为“需加快”；0 ≤ p < {accelerate} 为“严重滞后”；p < 0 为“倒退”；"
        "没有当期数值为“无数据”；地区没有适用目标为“无目标”。目标期过后按目标期数值作最终评估（达标/未达标）。"
        "比率类指标在各级地区均以分子、分母分别汇总后相除，不对下级比率取平均。"
        "每个指标只有一种口径（期末、累计、本季新增或年初至今），其所有数字均按该口径；年初至今类与往年同季度比较。"
        "表中“进度”为 p 的百分数，即实际进展占应达进展的比例。",
        "Each indicator starts from its baseline b at the plan's base period, with target g at target period T. "
        "With f the share of quarters elapsed from base to T, the expected value now is e = b + (g − b)·f "
        "(milestones: finished years' quantities plus this year's pro rata; schedules: interpolated by date; "
        "relative targets: the benchmark now). Progress p = (v − b)/(e − b), v being the current value. "
        "Statuses: Achieved when v meets g (a rate within 0.5 points of a 100% target counts); On track when "
        "p ≥ {on_track} or the linear trend of the last 8 quarters reaches g by T; Needs acceleration when "
        "{accelerate} ≤ p < {on_track}; Off track when 0 ≤ p < {accelerate}; Regressing when p < 0; No data without "
        "a current value; No target where no target applies. After T the assessment is final (Met / Not met). "
        "Ratios are computed from summed numerators and denominators at every level, never by averaging. "
        "Each indicator has one basis (end of period, cumulative, new this quarter or year to date) used by all its "
        "numbers; year-to-date values are compared with the same quarter of earlier years. "
        "'Progress' in the tables is p as a percentage: the progress made as a share of the progress due."),
    "report_appendix_intro": ("本报告所用目标均出自以下文件条款：", "Every target used in this report cites this document and clause:"),
    "report_no_children": ("该地区没有下级地区。", "This region has no sub-regions."),
    "report_page_of": ("第 {page} 页", "Page {page}"),
    "report_progress_data": ("读取数据…", "Reading data…"),
    "report_progress_chart": ("绘制图表 {i}/{n}…", "Drawing chart {i}/{n}…"),
    "report_progress_write": ("生成文件…", "Writing the file…"),
    "report_progress_child": ("{name}（{i}/{n}）", "{name} ({i}/{n})"),
    "report_done": ("完成", "Done"),
    "report_sections": ("报告内容", "Sections"),
    "report_build_docx": ("生成 Word（DOCX）", "Build Word (DOCX)"),
    "report_build_pdf": ("生成 PDF", "Build PDF"),
    "report_build_zip": ("生成全部下级地区报告（ZIP）", "Build every sub-region's report (ZIP)"),
    "report_download": ("下载 {name}", "Download {name}"),
    "report_children_none": ("所选地区没有下级地区。", "The selected region has no sub-regions."),
    "report_zip_format": ("ZIP 内文件格式", "Format inside the ZIP"),
    "report_built": ("已生成：{name}（{size} KB，{secs:.1f} 秒）", "Built: {name} ({size} KB, {secs:.1f} s)"),
    "report_err_region": ("未知地区代码：{code}", "Unknown region code: {code}"),
    "report_err_plan": ("未知规划：{plan}（可用：{plans}）", "Unknown plan: {plan} (available: {plans})"),
    "report_err_period": ("季度格式应为 YYYYQn，例如 2024Q2：{period}", "A quarter is written YYYYQn, e.g. 2024Q2: {period}"),
    "report_err_nodata": ("没有数据或没有覆盖该季度的规划。", "No data, or no plan covers that quarter."),
    "report_err_asof": ("无法读取历史数据版本 {snap}：{error}", "Cannot read snapshot {snap} as of then: {error}"),
    "report_err_children": ("地区 {code} 没有下级地区，无法生成 --children 报告。", "Region {code} has no sub-regions for --children."),
    "report_err_sections": ("未知的报告部分：{bad}（可用：{known}）", "Unknown report sections: {bad} (known: {known})"),
    "report_err_write": ("无法写入文件 {path}：{error}", "Cannot write {path}: {error}"),
}
