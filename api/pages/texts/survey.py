"""Words of the survey page at a household's link."""

WORDS = {
    "survey.household": ("本链接属于：{household}", "This link belongs to: {household}"),
    "survey.closes": ("截止时间：{when}", "Closes: {when}"),
    "survey.anonymous": (
        "本次调查为匿名调查：您的回答不会与您的房号或姓名关联，提交后无法查看或修改。",
        "This survey is anonymous: your answers are not linked to your home or your name, and cannot be seen or "
        "changed once sent.",
    ),
    "survey.scheduled": ("调查尚未开始，将于 {when} 开放。", "This survey has not opened yet. It opens on {when}."),
    "survey.closed": ("本次调查已于 {when} 结束，感谢您的关注。", "This survey closed on {when}. Thank you."),
    "survey.thanks": ("感谢您的参与！您的回答已提交。", "Thank you! Your answers have been sent."),
    "survey.answered": ("您已于 {when} 提交。", "You sent your answers on {when}."),
    "survey.can_edit": ("调查截止前您可以修改回答。", "You may change your answers until the survey closes."),
    "survey.cannot_edit": ("本调查提交后不能修改。", "Answers to this survey cannot be changed once sent."),
    "survey.your_answers": ("您的回答", "Your answers"),
    "survey.not_answered": ("未作答", "Not answered"),
    "survey.edit": ("修改回答", "Change my answers"),
    "survey.submit": ("提交", "Send"),
    "survey.save": ("保存修改", "Save changes"),
    "survey.required": ("（必答）", "(required)"),
    "survey.optional": ("（选答）", "(optional)"),
    "survey.fix": ("请修改以下 {count} 处后再提交：", "Please fix {count} answer(s) before sending:"),
    "survey.changed": (
        "此页面已过期：本户的答卷已在别处提交或修改（可能是重复提交）。以下是当前保存的内容，本次提交未保存。",
        "This page was out of date: this household's answers were sent or changed meanwhile (perhaps the form "
        "was sent twice). What is stored now is shown below; this form was not saved.",
    ),
    "survey.when_equals": ("（当第 {number} 题选择“{value}”时作答）", "(answer if question {number} is “{value}”)"),
    "survey.when_in": (
        "（当第 {number} 题选择 {value} 之一时作答）",
        "(answer if question {number} is one of {value})",
    ),
    "survey.when_below": (
        "（当第 {number} 题低于 {value} 分时作答）",
        "(answer if question {number} is below {value})",
    ),
    "survey.choose_up_to": ("最多选 {count} 项", "choose up to {count}"),
    "survey.max_length": ("最多 {count} 字", "at most {count} characters"),
    "likert.1": ("非常不满意", "Very dissatisfied"),
    "likert.2": ("不满意", "Dissatisfied"),
    "likert.3": ("一般", "Neutral"),
    "likert.4": ("满意", "Satisfied"),
    "likert.5": ("非常满意", "Very satisfied"),
    "nps.low": ("0 = 完全不可能", "0 = not at all likely"),
    "nps.high": ("10 = 非常可能", "10 = extremely likely"),
    "link.revoked": (
        "此链接已作废，物业已为您的房屋发放了新链接。请向物业服务中心索取。",
        "This link was replaced by a new one for your home. Please ask your property office for it.",
    ),
    "link.unknown": (
        "找不到这份问卷。请检查链接是否完整，或向物业服务中心索取您的链接。",
        "This survey link was not found. Check that the whole link was copied, or ask your property office.",
    ),
}
