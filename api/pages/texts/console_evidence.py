"""Words of the console's evidence flags (api/pages/console_evidence.py, api/pages/flag_words.py, and the flags on
the order page and in the review queue)."""

WORDS = {
    "console.nav.evidence": ("证据", "Evidence"),
    "console.evidence.title": ("证据标记", "Evidence flags"),
    "console.evidence.intro": (
        "系统自动检查照片和巡查记录，发现可疑之处会在这里标记。标记只是提醒：核实后如无问题，请写明理由并忽略。"
        "未处理的标记计入人员的证据存疑率。",
        "The checks look at every photo and round and flag what looks wrong. A flag only asks for a look: when the "
        "evidence is fine after all, dismiss it with the reason. Open flags count in each person's flag rate.",
    ),
    "console.evidence.filter": ("筛选", "Filter"),
    "console.evidence.status": ("状态", "Status"),
    "console.evidence.status.open": ("未处理", "Open"),
    "console.evidence.status.dismissed": ("已忽略", "Dismissed"),
    "console.evidence.status.all": ("全部", "All"),
    "console.evidence.kind": ("类型", "Kind"),
    "console.evidence.kind.all": ("全部类型", "Every kind"),
    "console.evidence.show": ("显示", "Show"),
    "console.evidence.none": ("没有符合条件的证据标记。", "No evidence flag matches."),
    "console.evidence.more": ("下一页", "Next page"),
    "console.evidence.first_page": ("回到第一页", "Back to the first page"),
    "console.evidence.caption": ("证据标记，最新的在前", "Evidence flags, newest first"),
    "console.evidence.col.when": ("发现时间", "Found"),
    "console.evidence.col.kind": ("问题", "What"),
    "console.evidence.col.whose": ("人员", "Whose"),
    "console.evidence.col.about": ("相关记录", "Record"),
    "console.evidence.col.status": ("处理", "Judgement"),
    "console.evidence.order": ("打开整改单", "Open the order"),
    "console.evidence.round": ("巡查记录", "A round"),
    "console.evidence.subject.photo": ("照片", "Photo"),
    "console.evidence.subject.visit": ("扫码记录", "Checkpoint scan"),
    "console.evidence.subject.round": ("巡查", "Round"),
    "console.evidence.photo": ("查看另一张照片", "See the other photo"),
    "console.evidence.photo_alt": ("被比对的照片", "The photo it matched"),
    "console.evidence.note": ("提示，不计入考核", "Note, not counted"),
    "console.evidence.open": ("未处理", "Open"),
    "console.evidence.dismissed": (
        "已由 {who} 于 {when} 忽略：{why}",
        "Dismissed by {who}, {when}: {why}",
    ),
    "console.evidence.reason": ("忽略理由", "Why the evidence is fine"),
    "console.evidence.reason.hint": (
        "例如：已现场核实；手机时间设置错误。理由会记录在审计日志中。",
        "For example: checked on site; the phone's clock was wrong. The reason is kept in the audit trail.",
    ),
    "console.evidence.dismiss": ("忽略此标记", "Dismiss this flag"),
    "console.evidence.need_reason": ("请写明忽略的理由", "Say why the evidence is fine"),
    "console.evidence.refused": ("未能忽略标记：{problem}", "The flag was not dismissed: {problem}"),
    "console.evidence.done": ("已忽略标记：{what}", "Flag dismissed: {what}"),
    # the order page and the review queue
    "console.evidence.on_order": ("证据检查", "Evidence checks"),
    "console.evidence.on_order.none": ("证据检查未发现问题。", "The evidence checks found nothing."),
    "console.evidence.badge": ("{n} 个证据标记", "{n} evidence flags"),
    "console.evidence.badge_one": ("1 个证据标记", "1 evidence flag"),
    # what each kind saw, in words (flag_words.evidence_words)
    "console.evidence.words.after_same_as_before": (
        "与本单整改前的照片相同",
        "the same photo as this order's before-photo",
    ),
    "console.evidence.words.reused_photo": ("与 {days} 天前的照片相同", "same as a photo of {days} days ago"),
    "console.evidence.words.reused_photo_today": ("与当天早些时候的照片相同", "same as a photo of earlier that day"),
    "console.evidence.words.reused_photo_earlier": ("与之前的照片相同", "same as an earlier photo"),
    "console.evidence.words.time_off_before": (
        "拍摄时间比检查早 {m} 分钟（允许 {tol} 分钟）",
        "taken {m} min before the check ({tol} min allowed)",
    ),
    "console.evidence.words.time_off_after": (
        "拍摄时间比检查晚 {m} 分钟（允许 {tol} 分钟）",
        "taken {m} min after the check ({tol} min allowed)",
    ),
    "console.evidence.words.no_capture_time": ("照片没有拍摄时间", "no capture time in the photo"),
    "console.evidence.words.outside_fence": ("在项目范围外 {m} 米", "{m} m outside the property's fence"),
    "console.evidence.words.source.exif": ("照片 GPS", "the photo's GPS"),
    "console.evidence.words.source.device": ("手机定位", "the phone's position"),
    "console.evidence.words.too_fast_kmh": (
        "两点之间 {kmh} 公里/小时（{metres} 米用时 {s} 秒）",
        "{kmh} km/h between two checkpoints ({metres} m in {s} s)",
    ),
    "console.evidence.words.too_fast_minutes": (
        "两点之间用时 {m} 分钟，预计 {expected} 分钟",
        "{m} min between two checkpoints, {expected} min expected",
    ),
    "console.evidence.words.round_too_short": (
        "巡查用时 {m} 分钟，路线预计 {expected} 分钟",
        "the round took {m} min, its route {expected} min expected",
    ),
    "console.evidence.words.scan_out_of_order": (
        "扫码时间比上一个点早 {m} 分钟",
        "scanned {m} min before the previous checkpoint",
    ),
    "console.evidence.words.score": ("测量值 {score} {unit}", "measured {score} {unit}"),
}
