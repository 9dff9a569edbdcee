"""The one table of Chinese labels: rule names, error codes, roles and the vocabulary of the records,
as pages show them and as problem+json `title` says them to a request that prefers Chinese.

Every error code the code can raise has a label here (tests/service/test_labels.py walks the
sources for them), and every value of the vocabulary's enums; a label missing is a failing test,
not an English word on a Chinese page."""

from __future__ import annotations

from collections.abc import Mapping

RULES: Mapping[str, str] = {
    "avg_hours_per_teacher": "人均学时",
    "avg_self_selected_hours": "人均自主选学学时",
    "share_concentrated_90h": "集中培训达90学时的教师占比",
    "share_school_based_designated": "校本规定内容达标占比",
    "share_school_based_elective": "校本自选内容达标占比",
    "participation_rate": "参训率",
    "share_cycle_on_track": "周期学时进度达标占比",
    "overdue_assessments": "逾期未考核",
    "overdue_evaluations": "逾期未评价",
}

ROLES: Mapping[str, str] = {
    "admin": "系统管理员",
    "supervisor": "主管部门",
    "school_admin": "学校培训管理员",
    "provider": "培训机构",
    "teacher": "教师",
    "auditor": "审计人员",
}

ORG_KINDS: Mapping[str, str] = {
    "province": "省", "city": "市", "county": "县（区）", "town": "乡镇（学区）", "school": "学校",
    "provider": "培训机构",
}

LEVELS: Mapping[str, str] = {
    "national": "国家级", "provincial": "省级", "city": "市级", "county": "县级", "school": "校级",
}

FORMS: Mapping[str, str] = {
    "concentrated": "集中培训", "online": "网络研修", "school_based": "校本研修", "outreach": "送教下乡",
    "workshop": "工作坊", "shadowing": "跟岗实践",
}

SELECTIONS: Mapping[str, str] = {"self_selected": "自主选学", "mandated": "指派参训", "school_based": "校本"}

SCHOOL_BASED_CONTENT: Mapping[str, str] = {"designated": "规定内容", "elective": "自选内容"}

RESULTS: Mapping[str, str] = {"excellent": "优秀", "good": "良好", "pass": "合格", "fail": "不合格"}

DECISIONS: Mapping[str, str] = {"approved": "批准", "rejected": "驳回", "upheld": "支持"}

ABSENCE_KINDS: Mapping[str, str] = {"leave": "请假", "substitution": "替换参训"}

APPROVERS: Mapping[str, str] = {"school": "学校", "provider": "培训机构"}

DEPARTURE_KINDS: Mapping[str, str] = {"retired": "退休", "left": "调离", "deceased": "去世", "other": "其他"}

STATUSES: Mapping[str, str] = {
    "valid": "有效", "revoked": "已撤销", "open": "待处理", "resolved": "已处理", "pending": "待审批",
    "approved": "已批准", "rejected": "已驳回", "active": "在职", "departed": "已离职",
}

EVENT_TYPES: Mapping[str, str] = {
    "Registered": "登记", "Renamed": "更名", "Transferred": "调动", "Corrected": "更正", "Departed": "离职",
    "Defined": "项目申报", "Decided": "项目审批", "Resubmitted": "重新申报", "SeatTaken": "占用名额",
    "SeatFreed": "释放名额", "SeatPassed": "名额转让", "SessionRescheduled": "课次改期", "SessionCancelled": "课次取消",
    "Enrolled": "报名", "EnrolmentWithdrawn": "退选", "AbsenceRequested": "申请缺席", "AbsenceDecided": "缺席审批",
    "AttendanceRecorded": "考勤", "Assessed": "考核", "Evaluated": "评价", "CreditAwarded": "学时认定",
    "CreditRevoked": "学时撤销", "DisputeOpened": "提出申诉", "DisputeResolved": "申诉处理",
    "PriorHoursRecorded": "历史学时登记", "PriorHoursRevoked": "历史学时撤销", "CertificateIssued": "开具学时证明",
    "Disabled": "停用账号", "Enabled": "启用账号", "PasswordReset": "重置密码", "SignedIn": "登录",
    "SignedOut": "退出登录",
}

CODES: Mapping[str, str] = {
    "absence_already_decided": "该审批方已对缺席作出决定",
    "absence_approved": "该学员的缺席已获批准",
    "absence_exists": "该报名已有待审或已批准的缺席申请",
    "absence_not_found": "没有待审批的缺席申请",
    "account_already_disabled": "该账号已停用",
    "account_already_enabled": "该账号已启用",
    "account_disabled": "该账号已停用",
    "account_exists": "该用户名已有账号",
    "account_not_found": "没有该账号",
    "already_assessed": "该学员已考核",
    "already_departed": "该教师已登记离职",
    "already_enrolled": "该教师已报名该项目",
    "already_evaluated": "该学员已评价该项目",
    "assessment_failed": "考核不合格，不能认定学时",
    "assessment_required": "尚未考核，不能认定学时",
    "award_needs_upheld": "只有支持申诉时才能认定学时",
    "bad_request": "请求无法读取",
    "bidi_control": "文本含有双向控制字符",
    "certificate_exists": "该证书编号已被使用",
    "certificate_not_found": "没有该编号的学时证明",
    "certificate_subject_required": "学时证明须指定一个年度或一个培训项目（二者选一）",
    "claim_required": "申诉内容不能为空",
    "claim_too_long": "申诉内容过长",
    "comment_too_long": "意见过长",
    "concurrent_update": "记录正在变动，请重试",
    "correction_unchanged": "更正未改变任何内容",
    "credential_key_not_valid": "签发电子证书的密钥此刻不在有效期内",
    "credit_already_awarded": "该项目已认定有效学时",
    "credit_already_revoked": "该学时已撤销",
    "credit_exists": "学时编号已被使用",
    "credit_not_found": "没有该学时记录",
    "csrf_failed": "表单校验失败，请刷新页面后重试",
    "departure_in_future": "离职日期晚于今天",
    "departure_out_of_order": "离职日期早于当前任职开始日期",
    "dispute_already_open": "该项目已有未处理的申诉",
    "dispute_already_resolved": "该申诉已处理",
    "dispute_exists": "申诉编号已被使用",
    "dispute_not_found": "没有该申诉",
    "duplicate_column": "表中有两列对应同一字段",
    "duplicate_line": "考勤表中同一教师出现两次",
    "duplicate_session": "两个课次编号相同",
    "error": "请求出错",
    "evaluation_pending": "须先评价此前参加的培训项目",
    "evidence_mismatch": "文件内容与所给 sha256 不符",
    "evidence_not_found": "没有保存该证明材料",
    "evidence_required": "历史学时须附证明材料",
    "evidence_too_large": "证明材料超过 10 MiB",
    "evidence_type_refused": "证明材料只接受 PDF、PNG、JPEG、DOCX 或 XLSX",
    "forbidden_scope": "超出您的权限范围",
    "hired_on_out_of_order": "更正的入职日期晚于之后的调动或离职",
    "hours_exceed_programme": "认定学时超过项目学时",
    "idempotency_key_reused": "该幂等键已用于另一请求",
    "import_too_large": "导入的表格超过 5 MiB",
    "internal_error": "内部错误，未记录任何内容",
    "invalid_capacity": "名额须至少为 1",
    "invalid_characters": "地址中含有控制字符",
    "invalid_code": "项目编号无效",
    "invalid_breakdown": "学时构成超过总学时",
    "invalid_credentials": "用户名或密码错误",
    "invalid_cursor": "分页游标无效",
    "invalid_consistency_range": "一致性证明的起止大小无效",
    "event_not_in_checkpoint": "该事件记录于所指检查点之后",
    "event_not_found": "没有该事件记录",
    "checkpoint_size_out_of_range": "检查点大小超出日志范围",
    "invalid_dates": "结束日期早于开始日期",
    "invalid_programme_code": "项目代码无效",
    "invalid_purpose": "证明用途过长",
    "invalid_rule": "指标名称无效",
    "invalid_scope": "核查范围无效",
    "invalid_depth": "层级只能是 1 或 2",
    "invalid_evidence": "证明材料信息不完整",
    "invalid_expiry": "会话的到期时间须晚于开始时间",
    "invalid_filter": "筛选条件无效",
    "invalid_hired_on": "入职日期无效",
    "invalid_hours": "学时无效（须大于 0、不超过 2000、至多一位小数）",
    "invalid_idempotency_key": "幂等键无效",
    "invalid_input": "输入不符合要求",
    "invalid_instant": "时间无效（须带时区）",
    "invalid_limit": "每页条数无效",
    "invalid_name": "名称为空或过长",
    "invalid_org_id": "单位编号无效",
    "invalid_parent": "该类单位不能隶属于所选上级",
    "invalid_password_hash": "账号缺少密码摘要",
    "invalid_provider": "承训单位须为培训机构或学校",
    "invalid_reason": "原因过长",
    "invalid_score": "评分须为 1–5 的整数",
    "invalid_session": "课次编号须至少为 1",
    "invalid_status": "状态筛选无效",
    "invalid_subject": "令牌缺少主体",
    "invalid_substitute": "不能以本人作为替换人",
    "invalid_teacher_no": "教师工号无效",
    "invalid_text": "文本含有控制字符",
    "invalid_title": "项目名称为空或过长",
    "invalid_token": "登录凭证无效",
    "invalid_username": "用户名格式不正确",
    "invalid_year": "年度无效",
    "late_entry_forbidden": "教师本人不能补录以往日期的记录",
    "late_reason_required": "补录须填写补录原因",
    "last_session": "不能取消项目的最后一个课次",
    "malformed_json": "请求内容不是有效的 JSON",
    "method_not_allowed": "不支持该请求方法",
    "no_header": "表格没有表头行",
    "no_session": "该凭证不属于任何登录会话",
    "not_a_school": "所选单位不是学校",
    "not_enrolled": "该教师未报名该项目",
    "not_found": "页面或资源不存在",
    "nothing_to_certify": "该年度或项目没有可证明的有效学时",
    "occurred_in_future": "发生日期晚于今天",
    "org_not_found": "没有该单位",
    "org_required": "该角色须指定单位",
    "org_structure_fixed": "单位的类别和上级不能更改",
    "outside_programme_school": "校本项目只接受本校教师报名",
    "payload_too_large": "上传内容过大",
    "pdf_unavailable": "本服务器暂不能生成 PDF（缺少中文字体）",
    "present_and_absent": "同一教师在一张考勤表上既出勤又缺勤",
    "prior_hours_already_recorded": "相同的历史学时已登记",
    "prior_hours_already_revoked": "该历史学时已撤销",
    "prior_hours_exists": "历史学时编号已被使用",
    "prior_hours_not_found": "没有该历史学时记录",
    "programme_already_decided": "该项目已审批",
    "programme_ended": "项目已结束",
    "programme_exists": "该项目编号已存在",
    "programme_full": "名额已满",
    "programme_not_approved": "校本项目尚未批准",
    "programme_not_ended": "项目最后一天起才能考核和评价",
    "programme_not_found": "没有该培训项目",
    "programme_not_rejected": "只有被驳回的项目才能重新申报",
    "programme_not_resubmittable": "该项目不在待审批状态，请以新编号申报",
    "programme_rejected": "项目已被驳回",
    "programme_started": "项目已开始，不能退选",
    "projection_behind": "已记录，报表尚在更新，请稍后重试",
    "reason_required": "须填写理由",
    "reason_too_long": "理由过长",
    "request_header_fields_too_large": "请求头过大",
    "request_timeout": "请求超时",
    "resubmission_needs_approval": "重新申报的校本项目仍需审批",
    "same_school": "调入学校与当前学校相同",
    "school_based_content_not_allowed": "只有校本项目才有校本内容类别",
    "school_based_content_required": "校本项目须选择规定内容或自选内容",
    "school_based_owner": "校本项目须为校级且由学校举办",
    "server_busy": "服务器繁忙，请稍后重试",
    "session_cancelled": "该课次已取消",
    "session_ended": "登录已失效，请重新登录",
    "session_hours_mismatch": "各课次学时之和与项目学时不符",
    "session_not_found": "项目没有该课次",
    "session_held": "课次日期已到，不能改期",
    "session_in_past": "不能改期到已过去的日期",
    "session_not_held": "课次日期未到",
    "session_outside_programme": "课次日期在项目起止日期之外",
    "session_unchanged": "课次已在该日期",
    "sessions_required": "项目须至少有一个课次",
    "sheet_too_large": "考勤表超过 5000 行",
    "store_unavailable": "记录库暂时无法访问，未记录任何内容",
    "source_required": "历史学时须注明来源",
    "source_too_long": "来源过长",
    "substitute_not_allowed": "请假不指定替换人",
    "substitute_other_school": "替换人来自其他学校",
    "substitute_required": "替换参训须指定替换人",
    "teacher_departed": "该教师已离职",
    "teacher_exists": "该工号的教师已登记",
    "teacher_no_required": "教师令牌须指定工号",
    "teacher_not_found": "没有该教师",
    "token_expired": "登录已过期，请重新登录",
    "too_many_attempts": "密码错误次数过多，请稍后再试",
    "too_many_rows": "表格行数超过单次导入上限",
    "transfer_in_future": "调动日期晚于今天",
    "transfer_out_of_order": "调动日期早于当前任职开始日期",
    "unauthenticated": "请先登录",
    "unknown_event_type": "未知的事件类型",
    "unknown_import_kind": "没有这种导入表格",
    "unknown_kind": "没有这种导入表格",
    "unreadable_csv": "CSV 文件无法解析",
    "unreadable_file": "文件无法读取",
    "unreadable_text": "文件编码无法识别（应为 UTF-8 或 GBK）",
    "unreadable_xlsx": "Excel 工作簿无法读取",
    "unsupported_file": "不支持旧版 .xls 文件，请另存为 .xlsx 或 CSV",
    "unsupported_media_type": "不支持的内容类型",
    "verify_in_progress": "另一次校验正在进行，请稍后重试",
    "weak_password": "密码强度不够",
}

VOCABULARY: Mapping[str, Mapping[str, str]] = {
    "rule": RULES, "role": ROLES, "org_kind": ORG_KINDS, "level": LEVELS, "form": FORMS, "selection": SELECTIONS,
    "school_based_content": SCHOOL_BASED_CONTENT, "result": RESULTS, "decision": DECISIONS,
    "absence_kind": ABSENCE_KINDS, "approver": APPROVERS, "departure_kind": DEPARTURE_KINDS, "status": STATUSES,
    "event_type": EVENT_TYPES, "code": CODES,
}


def label(kind: str, value: str | None) -> str:
    """The Chinese label of `value` of the vocabulary `kind`, or the value itself where none is kept
    (an id, a free text); "" for None."""
    if value is None:
        return ""
    return VOCABULARY[kind].get(value, value)


def prefers_chinese(accept_language: str | None) -> bool:
    """Whether an Accept-Language header ranks Chinese above English (RFC 9110 §12.5.4 weights;
    equal weights keep the header's order)."""
    if not accept_language:
        return False
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if tag and weight > 0:
            ranked.append((-weight, position, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        if tag == "zh" or tag.startswith("zh-"):
            return True
        if tag == "en" or tag.startswith("en-") or tag == "*":
            return False
    return False
