"""Words of the console's frame: sign-in, sections, the properties list. Each area of the console has its own
table beside this one (console_<area>.py)."""

WORDS = {
    "console.brand": ("物业管理后台", "Property console"),
    "console.nav.label": ("管理后台导航", "Console sections"),
    "console.nav.home": ("物业项目", "Properties"),
    "console.nav.board": ("今日看板", "Today"),
    "console.nav.review": ("整改审核", "Review"),
    "console.nav.kpis": ("考核指标", "KPIs"),
    "console.nav.surveys": ("满意度调查", "Surveys"),
    "console.nav.reports": ("月度/季度报告", "Reports"),
    "console.nav.setup": ("基础设置", "Setup"),
    "console.sign_out": ("退出登录", "Sign out"),
    "console.role.admin": ("管理员", "Admin"),
    "console.role.supervisor": ("主管", "Supervisor"),
    # sign-in
    "console.sign_in.title": ("管理后台登录", "Console sign-in"),
    "console.sign_in.intro": (
        "供物业主管和管理员使用。员工请使用手机应用，业主请使用业主服务页面。",
        "For supervisors and admins. Staff use the phone app; owners use the owner pages.",
    ),
    "console.sign_in.login": ("手机号或电子邮箱", "Phone or e-mail"),
    "console.sign_in.password": ("密码", "Password"),
    "console.sign_in.submit": ("登录", "Sign in"),
    "console.sign_in.signed_out": ("您已退出登录。", "You have signed out."),
    "console.refused.role": (
        "此账户不能登录管理后台：管理后台仅供主管和管理员使用。",
        "This account cannot use the console: it is for supervisors and admins.",
    ),
    # the properties list
    "console.home.none": (
        "您还没有负责的物业项目。请管理员在“人员”中为您分配项目。",
        "You supervise no property yet. Ask an admin to assign you one under People.",
    ),
    "console.home.more": (
        "只列出了前 200 个项目；其余请通过 API 查询。",
        "Only the first 200 properties are listed; find the rest through the API.",
    ),
    "console.home.zone": ("时区", "Time zone"),
    "console.property.label": ("当前项目", "Property in view"),
}
