"""UI strings of metrics.auth, merged into metrics.i18n.TEXT: key -> (中文, English).

Every key starts with ``auth_`` (no clash with other packages' tables). Imports nothing from
the project (i18n imports this module).
"""

TEXT: dict[str, tuple[str, str]] = {
    # navigation titles (the pages themselves belong to their owners)
    "auth_nav_login": ("登录", "Sign in"),
    "auth_nav_report": ("报告", "Report"),
    "auth_nav_upload": ("数据上传", "Upload"),
    "auth_nav_history": ("数据版本", "History"),
    "auth_nav_targets": ("目标管理", "Targets"),
    "auth_nav_users": ("用户", "Users"),
    "auth_nav_audit": ("审计日志", "Audit log"),
    # roles
    "auth_role_viewer": ("查看者", "Viewer"),
    "auth_role_analyst": ("分析员", "Analyst"),
    "auth_role_admin": ("管理员", "Administrator"),
    # sign-in page
    "auth_login_title": ("登录", "Sign in"),
    "auth_login_intro": ("乡村振兴目标监测 · 请使用您的账户登录。", "Rural Revitalization Target Tracker · sign in with your account."),
    "auth_login_name": ("用户名", "User name"),
    "auth_login_password": ("密码", "Password"),
    "auth_login_submit": ("登录", "Sign in"),
    "auth_login_missing": ("请输入用户名和密码。", "Enter your user name and password."),
    "auth_login_bad_credentials": ("用户名或密码不正确。", "Wrong user name or password."),
    "auth_login_disabled": ("该账户已停用，请联系管理员。", "This account is disabled; ask an administrator."),
    "auth_login_locked": ("登录失败次数过多，请在 {minutes} 分钟后再试。",
                          "Too many failed sign-ins; try again in {minutes} minutes."),
    "auth_ended_expired": ("由于长时间未操作，您已自动退出，请重新登录。",
                           "Your session expired after a period of inactivity; sign in again."),
    "auth_ended_disabled": ("您的账户已被停用，已退出登录。", "Your account was disabled; you have been signed out."),
    "auth_ended_unknown": ("您的账户已不存在，已退出登录。", "Your account no longer exists; you have been signed out."),
    "auth_ended_logout": ("您已退出登录。", "You have signed out."),
    "auth_login_first_admin": ("首次启动：管理员账户 admin 的初始密码已在服务器控制台显示一次，并写入数据目录中的 "
                               "initial_admin_password.txt（仅所有者可读，首次登录后删除）。",
                               "First start: the initial password of the account admin was printed once on the "
                               "server console and written to initial_admin_password.txt in the data directory "
                               "(readable by its owner only, removed after the first sign-in)."),
    "auth_login_setup_failed": ("无法读写账户文件（数据目录不可写？）：{error}",
                                "Cannot read or write the accounts file (is the data directory writable?): {error}"),
    "auth_sso_button": ("使用单位账号登录（单点登录）", "Sign in with your organisation account (SSO)"),
    "auth_sso_or": ("或使用本系统账户：", "or with an account of this app:"),
    "auth_sso_denied": ("单点登录账号 {email} 未被授权访问本系统，请联系管理员。",
                        "The SSO account {email} has no access to this app; ask an administrator."),
    "auth_sso_logout": ("退出单点登录", "Sign out of SSO"),
    # sidebar
    "auth_signed_in_as": ("当前用户：{name}（{role}）", "Signed in: {name} ({role})"),
    "auth_anonymous_mode": ("匿名只读模式", "Anonymous read-only mode"),
    "auth_logout": ("退出登录", "Sign out"),
    "auth_sign_in": ("登录", "Sign in"),
    "auth_own_password": ("修改密码", "Change password"),
    "auth_own_current": ("当前密码", "Current password"),
    "auth_own_new": ("新密码", "New password"),
    "auth_own_submit": ("保存新密码", "Save new password"),
    "auth_own_done": ("密码已修改。", "Password changed."),
    "auth_own_wrong": ("当前密码不正确。", "The current password is wrong."),
    "auth_forbidden": ("无权访问此页面。", "You may not open this page."),
    # account errors (AccountError.code)
    "auth_err_bad_name": ("用户名「{name}」无效：只能使用字母、数字、汉字及 . _ @ -，不能以符号开头，最长 64 个字符。",
                          "Invalid user name \"{name}\": letters, digits, Chinese characters and . _ @ - only, "
                          "not starting with a symbol, at most 64 characters."),
    "auth_err_bad_role": ("未知角色「{role}」（可选 viewer、analyst、admin）。",
                          "Unknown role \"{role}\" (viewer, analyst or admin)."),
    "auth_err_password_too_short": ("密码至少需要 {minimum} 个字符。", "The password needs at least {minimum} characters."),
    "auth_err_user_exists": ("用户「{name}」已存在。", "The user \"{name}\" already exists."),
    "auth_err_email_exists": ("邮箱 {email} 已属于另一个账户。", "The e-mail {email} already belongs to another account."),
    "auth_err_unknown_user": ("没有用户「{name}」。", "There is no user \"{name}\"."),
    "auth_err_bad_email": ("邮箱地址「{email}」无效。", "Invalid e-mail address \"{email}\"."),
    "auth_err_last_admin": ("不能停用或降级最后一个管理员。", "The last active administrator cannot be disabled or demoted."),
    # users page
    "auth_users_title": ("用户", "Users"),
    "auth_users_name": ("用户名", "User name"),
    "auth_users_role": ("角色", "Role"),
    "auth_users_email": ("单点登录邮箱", "SSO e-mail"),
    "auth_users_state": ("状态", "State"),
    "auth_users_created": ("创建时间", "Created"),
    "auth_users_last_login": ("最近登录", "Last sign-in"),
    "auth_users_add": ("添加用户", "Add a user"),
    "auth_users_password": ("初始密码（留空则随机生成）", "Initial password (empty: a random one)"),
    "auth_users_new_password": ("新密码（留空则随机生成）", "New password (empty: a random one)"),
    "auth_users_add_submit": ("添加", "Add"),
    "auth_users_added": ("已添加用户 {name}（{role}）。", "Added {name} ({role})."),
    "auth_users_edit": ("修改用户", "Change a user"),
    "auth_users_pick": ("选择用户", "User"),
    "auth_users_change_role": ("更改角色", "Change role"),
    "auth_users_reset_password": ("重设密码", "Reset password"),
    "auth_users_disable": ("停用", "Disable"),
    "auth_users_enable": ("启用", "Enable"),
    "auth_users_set_email": ("保存邮箱", "Save e-mail"),
    "auth_users_done": ("已更新用户 {name}。", "Updated {name}."),
    "auth_users_password_once": ("用户 {name} 的密码（只显示这一次，请通过安全渠道告知本人）：",
                                 "The password of {name} (shown only this once; pass it on securely):"),
    "auth_state_active": ("启用", "active"),
    "auth_state_disabled": ("停用", "disabled"),
    # audit page
    "auth_audit_title": ("审计日志", "Audit log"),
    "auth_audit_user": ("用户", "User"),
    "auth_audit_action": ("操作", "Action"),
    "auth_audit_since": ("起始日期", "From"),
    "auth_audit_until": ("截止日期", "To"),
    "auth_audit_text": ("包含文字", "Containing"),
    "auth_audit_at": ("时间", "When"),
    "auth_audit_role": ("角色", "Role"),
    "auth_audit_detail": ("详情", "Detail"),
    "auth_audit_count": ("共 {shown} 条（全部 {total} 条）", "{shown} entries (of {total})"),
    "auth_audit_export": ("导出 CSV", "Export CSV"),
    "auth_audit_empty": ("没有符合条件的记录。", "No entries match."),
    # command line (Chinese only is printed; English kept for completeness)
    "auth_cli_password_prompt": ("密码：", "Password: "),
    "auth_cli_password_again": ("再次输入密码：", "Password again: "),
    "auth_cli_password_mismatch": ("两次输入的密码不一致。", "The passwords differ."),
    "auth_cli_random_password": ("随机密码（只显示这一次）：{password}", "Random password (shown once): {password}"),
    "auth_cli_added": ("已添加用户 {name}（{role}）", "Added {name} ({role})"),
    "auth_cli_passwd": ("已重设 {name} 的密码", "Password of {name} reset"),
    "auth_cli_changed": ("{name}：{role}，{state}", "{name}: {role}, {state}"),
    "auth_cli_count": ("共 {n} 个账户", "{n} accounts"),
}


def account_error(exc, lang: str = "zh") -> str:
    """The message for an ``AccountError`` in ``lang``."""
    zh, en = TEXT.get(f"auth_err_{exc.code}", (exc.code, exc.code))
    template = en if lang == "en" else zh
    try:
        return template.format(**exc.detail)
    except (KeyError, IndexError):
        return template
