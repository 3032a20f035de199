"""Words every page uses: the frame, the language switch, errors."""

WORDS = {
    "app.name": ("物业服务", "Property services"),
    "lang.switch": ("English", "中文"),
    "lang.switch.label": ("Switch to English", "切换到中文"),
    "skip": ("跳到正文", "Skip to content"),
    "error.title": ("出错了", "Something went wrong"),
    "error.400": ("请求有误", "That request was not right"),
    "error.401": ("请先登录", "Please sign in"),
    "error.403": ("无权查看或操作", "You may not see or do this"),
    "error.404": ("未找到该页面", "This page was not found"),
    "error.405": ("不支持该操作", "That is not possible here"),
    "error.409": ("与当前状态冲突", "This no longer matches what is stored"),
    "error.410": ("已过期", "This has expired"),
    "error.413": ("内容过大", "That was too large"),
    "error.422": ("填写有误", "Some answers need fixing"),
    "error.429": ("操作太频繁，请稍后再试", "Too many tries; please wait a little and try again"),
    "error.500": ("服务器出错了，请稍后再试", "Our server failed; please try again later"),
    "error.503": ("服务暂时不可用，请稍后再试", "The service is unavailable for a moment; please try again"),
    "error.csrf": (
        "为了安全，表单需要从刚打开的页面提交。请返回、刷新页面后重新提交。",
        "For your safety, a form must be sent from a freshly opened page. Go back, reload it and send it again.",
    ),
    "error.csrf.title": ("页面已过期", "This page has expired"),
    "error.back": ("返回重新填写", "Back to the form"),
    "error.home": ("回到首页", "Home"),
    "property.unknown": (
        "没有找到这个物业项目，或您无权查看。",
        "This property was not found, or it is not one you may see.",
    ),
    "error.help": ("如需帮助，请联系物业服务中心。", "For help, ask your property office."),
}
