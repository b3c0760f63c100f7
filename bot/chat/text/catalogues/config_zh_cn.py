"""配置文件问题的简体中文：`bot.config_sentences.CONFIG_SENTENCES` 的每一项，键和占位符不变。

Config keys, section names and values stay as written in the file. No ``WORDING`` here:
this module is a part of the Chinese catalogue (`zh_cn`), not a language."""

from __future__ import annotations

CONFIG_SENTENCES_ZH: dict[str, str] = {
    # the file
    "no_file": "{path}：文件不存在（可复制 config.example.toml）",
    "unreadable": "{path}：无法读取（{kind}）",
    "not_toml": "{path}：不是有效的 TOML：{detail}",
    "empty": "{path} 是空文件：请复制 config.example.toml 并填写",
    "no_workflows": "没有配置任何工作流：请为每个 Dify 应用添加一个 [workflows.<名称>] 表",
    "no_such_workflow": "没有名为 {name!r} 的工作流（已配置：{known}）",
    "none_configured": "无",
    # tables and keys
    "unknown_section": "未知的配置节 [{name}]",
    "not_a_table": "[{where}] 必须是一个表",
    "unknown_key": "{where}：未知的配置项 {key!r}",
    "must_be_int": "{where}.{key} 必须是整数，而不是 {value!r}",
    "must_be_float": "{where}.{key} 必须是数字，而不是 {value!r}",
    "must_be_str": "{where}.{key} 必须是字符串，而不是 {value!r}",
    "must_be_bool": "{where}.{key} 必须是 true 或 false，而不是 {value!r}",
    "must_be_positive": "{where}.{key} 必须大于 0",
    "must_be_choice": "{where}.{key} 必须是 {options} 之一，而不是 {value!r}",
    "must_be_strings": "{where}.{key} 必须是字符串列表",
    "env_missing": "{where}.{key}：环境变量 {env} 未设置",
    "zero_or_more_never": "{where}.{key} 必须大于等于 0（0 表示从不）",
    "zero_or_more_no_cap": "{where}.{key} 必须大于等于 0（0 表示不限）",
    # [daemon]
    "asyncpg": "daemon.database_url：本程序通过 asyncpg 连接 PostgreSQL，请写成 {hint!r}",
    "sqlite_url": "daemon.database_url：SQLite 地址请写成 'sqlite+aiosqlite:///path/to/file.db'",
    "unsupported_database": (
        "daemon.database_url：不支持的数据库 {scheme!r}；请使用 'sqlite+aiosqlite:///…' 或 'postgresql+asyncpg://…'"
    ),
    "unknown_locale": "daemon.locale：未知的语言 {setting!r}；可选：{known}",
    "url_twice": "daemon：database_url 和 database_url_env 只能设置其一",
    "unknown_timezone": "daemon.timezone：未知的时区 {name!r}",
    # chats
    "webhook_url": 'mode = "webhook" 时必须设置 telegram.webhook_url',
    "slash_command": "slack.command 必须以 '/' 开头，而不是 {command!r}",
    # workflows
    "base_url": "{where}.base_url 必须是以 /v1 结尾的 http(s) 地址",
    "api_key_env": "{where}.api_key_env 为必填项（填写环境变量的名称）",
    "pin_not_workflow": "{where}.workflow_id 用于固定工作流应用的版本，而这个应用是 {app_type} 应用",
    "pin_not_uuid": (
        "{where}.workflow_id 必须是已发布版本的 ID（UUID，即 Dify 运行详情中的 workflow_id），"
        "而不是 {value!r}"
    ),
    "context_table": "[{where}.context] 必须是“变量 = 来源”形式的表",
    "context_source": "{where}.context.{variable} 必须是 {sources} 之一，而不是 {source!r}",
    "in_workflow": "workflows.{workflow}：{problem}",
    # the app's form (engine.context)
    "context_unknown": (
        "context 映射了 {variable!r}（来源 {source!r}）"
        "，但应用中没有这个变量（现有：{known}）"
    ),
    "context_unknown_none": "context 映射了 {variable!r}（来源 {source!r}），但应用没有任何输入变量",
    "context_not_plain": "context 映射了 {variable!r}，但它是 {kind} 类型的输入",
}
