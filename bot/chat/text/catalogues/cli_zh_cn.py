"""命令行的简体中文（issue 14）：`bot.chat.text.catalogues.cli_en` 的每一项，键和占位符不变。

Commands, options, config keys and file names stay as typed. No ``WORDING`` here: this
module is a part of the Chinese catalogue (`zh_cn`), not a language."""

from __future__ import annotations

CLI_SAYS: dict[str, str] = {
    # reading the sheet and --output
    "no_such_file": "{path}：文件不存在",
    "is_a_folder": "{path} 是文件夹，请指定表格文件",
    "unreadable": "{path}：无法读取（{why}）",
    "concurrency_min": "--concurrency 至少为 1",
    "sample_min": "--sample 至少为 1",
    "keep_days_min": "--keep-days 至少为 1",
    "demo_rows": "--rows 须在 1 到 10000 之间",
    "output_folder": "--output {path} 是文件夹，请写出其中的结果文件名",
    "output_suffix": "--output {path}：请使用 .xlsx 或 .csv 文件名（由后缀决定写出哪种格式）",
    "output_parent_file": "--output {path}：{existing} 是文件，不是文件夹",
    "output_read_only": "--output {path}：无法创建文件夹 {folder}（{existing} 只读）",
    "output_locked": "--output {path} 已存在且无法覆盖",
    "output_unwritable": "--output {path}：无法在 {folder} 中写入（{why}）",
    "template_xlsx": "--output {path}：模板只能是 .xlsx 工作簿",
    # running
    "batch_line": "任务 {id}：共 {total} 行，工作流 {workflow}",
    "sample_batch_line": "试跑任务 {id}：共 {total} 行，工作流 {workflow}",
    "resuming": "继续运行任务 {id}（{workflow}）",
    "retrying": "重新运行任务 {id}（{workflow}）中失败的 {n} 行",
    "already_finished": "任务 {id} 已经结束，结果文件见上方。",
    "finished_refused": (
        "任务 {id} 已{status}；dify-batch result {id} 可写出结果文件，"
        "dify-batch retry {id} 可重新运行失败的行"
    ),
    "owed_written": "任务 {id}：上次写入被中断，现已补写结果文件：{path}",
    "results_unwritten": (
        "任务 {id} 已结束，但结果文件 {path} 无法写入（{why}）；请排除问题后运行：dify-batch resume {id}"
    ),
    "demo_wrote": (
        "已写出 {path}（{rows} 行）。现在交给模拟应用 {workflow!r} 运行："
        "约十分之一的调用首次会失败并自动重试。"
    ),
    "sample_row": "第 {row} 行  {mark}  {text}",
    "sample_no_outputs": "（无输出）",
    # check
    "ready": "{filename}：{rows} 行可交给 {workflow} 运行",
    "ready_blank": "；已跳过 {n} 个空行",
    "ready_extra": "；多出的列将原样保留：{columns}",
    "ready_end": "。",
    "estimate_unknown": (
        "≈ {rows} 行，同时运行 {in_flight} 行 · {workflow} "
        "尚无历史任务，无法估算用时和 token 用量"
    ),
    "estimate_rows": "≈ {rows} 行",
    "estimate_calls": "（含重试共 {calls} 次调用）",
    "estimate_time": "约 {duration}（同时运行 {in_flight} 行）",
    "estimate_tokens": "约 {tokens} tokens",
    "estimate_failed": "以往失败率约 {rate}",
    "estimate_basis_one": "（依据之前的 1 个任务）",
    "estimate_basis_many": "（依据之前的 {n} 个任务）",
    # status, pause, cancel
    "no_batch": "找不到任务 {id}",
    "no_workflow": "没有名为 {name!r} 的工作流",
    "no_schedule": "找不到定时任务 {id}",
    "no_active_schedule": "没有生效中的定时任务 {id}",
    "no_batches": "还没有任务。",
    "results_owed": "任务 {id}：结果文件 {path} 尚未写出；运行 dify-batch resume {id} 即可写出",
    "sample_mark": "  （试跑）",
    "detail_rows": (
        "已完成 {done}/{total}：成功 {ok}，失败 {failed}，已取消 {cancelled}，"
        "运行中 {running}，等待中 {pending}"
    ),
    "detail_owed": "  （尚未写出：运行 dify-batch resume {id} 即可写出）",
    "paused_outage": "自 {when} 起一直无法连接 Dify（{why}），已等待 {after} 秒",
    "paused": "任务 {id} 已暂停；运行中的行会跑完并保留。继续运行：dify-batch resume {id}",
    "cancelled": (
        "任务 {id} 已取消：共 {total} 行，成功 {ok}，失败 {failed}，已取消 {cancelled}。"
        "dify-batch result {id} 可写出目前的结果。"
    ),
    # schedules
    "scheduled": "定时任务 {id}：{workflow} 处理 {filename}，{when}；下次运行 {next}。",
    "scheduled_tail": (
        "由使用此数据库的守护进程（dify-batch serve）按时运行；dify-batch result <任务 ID> 可写出结果。"
    ),
    "no_schedules": "没有定时任务。",
    "schedule_row": "{id}  {workflow}  {when!r}  {filename}  {owner}  下次：{next}",
    "unscheduled": "定时任务 {id} 已删除。",
    "never": "无",
    # the database by hand
    "db_current_ok": "{head}（已是最新）",
    "db_current_legacy": "0.1.0（尚无版本号）；`dify-batch db upgrade` 可升级到 {head}",
    "db_current_empty": "空数据库；首次启动时会创建版本 {head}",
    "db_current_behind": "{current}；`dify-batch db upgrade` 可升级到 {head}",
    "db_already": "已是版本 {head}，无需升级",
    "db_created": "已按版本 {revision} 创建数据表",
    "db_upgraded": "已从 {before} 升级到 {after}",
    "db_backup": "升级前的数据库备份：{path}",
    "pruned": "已删除 {cutoff} 之前结束的 {batches} 个任务和 {files} 份保存的表格",
    "pruned_kept": "保留了 {n} 个结果文件从未送达的旧任务：{ids}",
    # check-config
    "config_ok": "{source}：没有问题。{n} 个工作流：{names}；聊天：{chats}；数据库：{database}",
    "chats_none": "未启用",
    "online_failed": "{n} 项在线检查未通过",
    "all_ok": "OK",
    "app_ok": "  {name}：OK，{app_type} 应用；输入项：{labels}",
    "no_inputs": "无输入项",
    "app_problem": "  {name}：{problem}",
    "db_cannot_create": "  数据库：无法创建 {path}：{folder} 不是文件夹",
    "db_created_later": "  数据库：OK，{path} 尚不存在，首次使用时创建",
    "db_problem": "  数据库：{problem}",
    "db_ok": "  数据库：OK，已连接；{schema}",
    "schema_revision": "数据表版本 {revision}",
    "schema_empty": "还没有数据表（首次使用时创建）",
    "schema_missing": "缺少数据表：{tables}（首次使用时创建）",
    "schema_full": "数据表齐全",
    "telegram_refused": "  telegram：机器人令牌被拒绝（{reason}）；令牌取自环境变量 {env}",
    "telegram_ok": "  telegram：OK，机器人 @{name}",
    "slack_refused": "  slack：机器人令牌被拒绝（{reason}）；令牌取自环境变量 {env}",
    "slack_ok": "  slack：OK，{team} 中的 {user}",
    "api_unreachable": "  {what}：无法连接其 API（{why}）；请检查 {what}.api_base",
    # what went wrong
    "config_where": "（{path}）",
    "config_head_one": "配置{where}有 1 个问题：",
    "config_head_many": "配置{where}有 {n} 个问题：",
    "data_dir": "无法创建数据文件夹 {path}（{why}）；请检查配置中的 daemon.data_dir",
    "sqlite_open": (
        "无法打开 SQLite 数据库 {path}（{why}）；请检查 daemon.database_url，并确认其所在文件夹存在且可写入"
    ),
    "db_unreachable": "无法连接数据库 {url}（{why}）；数据库在运行吗？请检查 daemon.database_url",
    "key_refused": (
        "Dify 拒绝了工作流 {name!r} 的 API 密钥（{error}）；密钥取自环境变量 {env}，"
        "请将其设为该应用的密钥（app-…）"
    ),
    "key_env_unknown": "它的 api_key_env 所指的变量",
    "not_found_v1": (
        "{base} 对工作流 {name!r} 返回 404：base_url 应以 /v1 结尾，例如 {fixed}（workflows.{name}.base_url）"
    ),
    "not_found_api": (
        "{base} 对工作流 {name!r} 返回 404：请确认 base_url 是该应用的 API 地址（workflows.{name}.base_url）"
    ),
    "dify_slow": (
        "{base} 上的 Dify 未能及时应答（工作流 {name!r}）；是否负载过高或经过了较慢的代理？"
        "请检查 workflows.{name}.base_url"
    ),
    "dify_unreachable": (
        "无法连接 {base} 上的 Dify（{why}，工作流 {name!r}）；Dify 在运行吗？请检查 workflows.{name}.base_url"
    ),
    "dify_error": "{base} 上的 Dify 对工作流 {name!r} 返回了错误：{error}",
    "path_problem": "{path}{why}；请检查该路径及其所在文件夹",
    "database_failed": "数据库出错（{why}）；请检查 daemon.database_url，并确认数据库已启动",
    "connection_failed": "连接失败（{why}）",
    "unexpected": "意外错误：{detail}{hint}",
    "unexpected_hint": "（加 -v 重新运行可查看详情）",
    "chat_template_hint": "下载模板即可查看应有的表头。",
    "template_hint": "`dify-batch template {workflow}` 可生成带有应有表头的表格。",
    "version_unknown": "未知（未安装）",
}

OUTAGE_REASONS: dict[str, str] = {
    "connection_refused": "连接被拒绝",
    "refused_by": "{where} 拒绝连接",
    "host_not_found": "找不到主机名",
    "cannot_resolve": "无法解析主机名 {host}",
    "cannot_connect": "无法连接 {where}（{why}）",
    "permission_denied": "权限不足",
    "timed_out": "超时",
    "password_refused": "用户名或密码被拒绝",
    "no_database": "该数据库不存在",
}

CLI_STATUS_COLUMNS: dict[str, str] = {
    "id": "ID", "status": "状态", "done": "进度", "ok": "成功", "failed": "失败",
    "workflow": "工作流", "sheet": "表格", "owner": "发起人", "created": "创建时间（UTC）",
}
CLI_STATUS_FIELDS: dict[str, str] = {
    "batch": "任务", "status": "状态", "workflow": "工作流", "sheet": "表格", "owner": "发起人",
    "rows": "行数", "tokens": "tokens", "created": "创建", "started": "开始", "finished": "结束",
    "error": "错误", "results": "结果",
}
CLI_STATUS_WORDS: dict[str, str] = {
    "scheduled": "已定时", "pending": "排队中", "running": "运行中", "paused": "已暂停",
    "completed": "已完成", "failed": "失败", "cancelled": "已取消", "succeeded": "成功",
}

_HELP: dict[str, str] = {
    "Run a Dify app over every row of a spreadsheet.": "对表格的每一行运行一次 Dify 应用。",
    "print the version": "显示版本号",
    "log what happens, and show the full traceback of an unexpected error": (
        "输出运行日志；遇到意外"
        "错误时显示完整的调用栈"
    ),
    "config file (default: $DIFY_BATCH_CONFIG, then ./config.toml)": (
        "配置文件（默认：$DIFY_BATCH_CONFIG，"
        "其次 ./config.toml）"
    ),
    "run a workflow over a sheet, write the results": "用工作流处理表格并写出结果",
    "the input sheet: .xlsx, .xls, .ods or .csv": "输入表格：.xlsx、.xls、.ods 或 .csv",
    "workflow name from the config": "配置中的工作流名称",
    "workflow name from the config; name two or more to compare them on the same rows": (
        "配置中的工作流名称；写两个或更多即在同一批行上对比它们"
    ),
    ".xlsx or .csv (default: <sheet>-results.xlsx; a comparison: <sheet>-compare.xlsx)": (
        ".xlsx 或 .csv（默认：<表格>-results.xlsx；对比时为 <表格>-compare.xlsx）"
    ),
    "rows in flight at once for this run": "本次同时运行的行数",
    "run only the first N rows as a sample; show their outputs": "只试跑前 N 行并显示输出",
    "continue an interrupted or paused batch": "继续运行中断或暂停的任务",
    "the batch or comparison to continue (see dify-batch status)": (
        "要继续的任务或对比（见 dify-batch status）"
    ),
    "results file (default: the one the run was given)": "结果文件（默认：运行时指定的文件）",
    "rows in flight (default: what the batch started with)": "同时运行的行数（默认：任务开始时的设置）",
    "run a finished batch's failed rows again": "重新运行已结束任务中失败的行",
    "the batch (or comparison) to retry": "要重跑失败行的任务（或对比）",
    "rows in flight at once": "同时运行的行数",
    "show recent batches, or one batch": "查看最近的任务，或某个任务的详情",
    "one batch (or comparison) to show in detail": "要查看详情的任务（或对比）",
    "print JSON for scripts": "输出 JSON，供脚本使用",
    "pause a running batch (rows in flight finish)": "暂停运行中的任务（正在运行的行会跑完）",
    "the batch (or comparison) to pause": "要暂停的任务（或对比）",
    "cancel a batch: stop its runs, skip the rest": "取消任务：停止正在运行的行，跳过其余的行",
    "the batch (or comparison) to cancel": "要取消的任务（或对比）",
    "write the results file of any batch": "写出任意任务的结果文件",
    "the batch (or comparison) whose results to write": "要写出结果的任务（或对比）",
    (
        "results file, .xlsx or .csv (default: the path its run was given, "
        "else <sheet>-results-<ID>.xlsx here)"
    ): (
        "结果文件，.xlsx 或 .csv（默认：运行时指定的路径，否则为当前目录下的 <表格>-results-<ID>.xlsx）"
    ),
    "write an empty input sheet for a workflow": "为工作流生成空白输入表格",
    "default: <workflow>-template.xlsx": "默认：<工作流>-template.xlsx",
    "try it: a sample sheet through a simulated app": "体验一下：用模拟应用运行示例表格",
    "where to write": "写入位置",
    "how many sample rows": "示例行数",
    "run the chat daemon (Telegram, Slack, scheduler)": "运行聊天守护进程（Telegram、Slack、定时任务）",
    "run a sheet later or on a recurring time": "稍后或定期运行表格",
    'e.g. "tomorrow 09:00", "every day 08:00"': "例如 \"tomorrow 09:00\"、\"every day 08:00\"",
    "list schedules with their next fire time": "列出定时任务及下次运行时间",
    "stop a schedule": "停止定时任务",
    "the schedule to stop": "要停止的定时任务",
    "check a config file, listing every problem": "检查配置文件，列出全部问题",
    "the config file (same as --config; default: $DIFY_BATCH_CONFIG, then ./config.toml)": (
        "配置文件（同 --config；默认：$DIFY_BATCH_CONFIG，其次 ./config.toml）"
    ),
    "also ask each Dify app for its form, connect to the database and try each chat token": (
        "同时向每个 Dify 应用获取输入表单、连接数据库并验证每个聊天令牌"
    ),
    "check a sheet against a workflow and estimate the run": "按工作流检查表格并估算运行用时",
    "upgrade the database schema, show its revision, prune old batches": (
        "升级数据库结构、查看版本、"
        "清理旧任务"
    ),
    "bring the schema to this release's revision": "将数据库结构升级到当前版本",
    "show the schema revision, change nothing": "查看数据库结构版本，不做任何改动",
    "delete finished batches older than keep_days now": "立即删除超过 keep_days 的已结束任务",
    "default: [daemon] keep_days (30)": "默认：[daemon] keep_days（30）",
}
CLI_HELP_ZH = _HELP
"""Keyed by the English (`cli_en.CLI_HELP`); the catalogue test names any text left untranslated."""

_ARGPARSE: dict[str, str] = {
    "usage: ": "用法：",
    "positional arguments": "位置参数",
    "options": "选项",
    "show this help message and exit": "显示此帮助并退出",
    "%(prog)s: error: %(message)s\n": "%(prog)s：错误：%(message)s\n",
    "the following arguments are required: %s": "缺少必需的参数：%s",
    "unrecognized arguments: %s": "无法识别的参数：%s",
    "invalid choice: %(value)r (choose from %(choices)s)": "无效的选项：%(value)r（可选：%(choices)s）",
    "invalid %(type)s value: %(value)r": "无效的 %(type)s 值：%(value)r",
    "expected one argument": "需要一个参数值",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "one of the arguments %s is required": "参数 %s 必须给出其中之一",
    "ambiguous option: %(option)s could match %(matches)s": "选项 %(option)s 有歧义，可能是 %(matches)s",
}
CLI_ARGPARSE_ZH = _ARGPARSE
