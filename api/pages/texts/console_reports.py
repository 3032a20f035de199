"""Words of the console's reports (api/pages/console_reports.py, console/reports.html, static/reports.js)."""

WORDS = {
    "console.reports.intro": (
        "为业主委员会和公司生成的物业服务报告（PDF）：巡检指标及近12个月趋势、整改台账、满意度调查及改进措施、客服报事报修。"
        "报告由后台任务生成，较长的期间需要几秒钟。",
        "The property report (PDF) for the owners' committee and the company: inspection KPIs and their 12-month "
        "trend, the rectification ledger, satisfaction and improvement actions, the service desk. The worker makes "
        "it; a long period takes a few seconds.",
    ),
    "console.reports.period": ("报告期", "Period"),
    "console.reports.state": ("状态", "State"),
    "console.reports.detail": ("进度 / 完成时间", "Progress / made"),
    "console.reports.actions": ("操作", "Actions"),
    "console.reports.status.none": ("未生成", "Not made"),
    "console.reports.status.queued": ("排队中", "Queued"),
    "console.reports.status.running": ("生成中", "Being made"),
    "console.reports.status.done": ("已生成", "Ready"),
    "console.reports.status.failed": ("生成失败", "Failed"),
    "console.reports.step": ("第 {done} / {total} 步", "step {done} of {total}"),
    "console.reports.progress": ("生成进度", "Progress"),
    "console.reports.made": ("生成于 {at} · {kb} KB · 第 {version} 版", "Made {at} · {kb} KB · version {version}"),
    "console.reports.make": ("生成报告", "Make the report"),
    "console.reports.again": ("重新生成", "Make it again"),
    "console.reports.download": ("下载 PDF", "Download PDF"),
    "console.reports.refresh": ("刷新", "Refresh"),
    "console.reports.waiting": (
        "报告生成中。此页面会自动更新；如未更新，请点击“刷新”。",
        "A report is being made. This page updates by itself; if it does not, press Refresh.",
    ),
    "console.reports.other": ("其他报告期", "Another period"),
    "console.reports.other_hint": (
        "月份如 2026-10，季度如 2026-Q4（按项目所在时区）",
        "A month like 2026-10 or a quarter like 2026-Q4 (in the property's time zone)",
    ),
}
