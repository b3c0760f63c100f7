"""简体中文 (zh-CN): every template of `EnglishWording`, written as a Chinese product says it.

Commands, ``<when>`` expressions and workflow names stay as typed; so do the column headers
taken from the app's form. Durations read ``12 分 30 秒``."""

from __future__ import annotations

from typing import ClassVar

from bot.chat.text.catalogues.cli_zh_cn import (
    CLI_ARGPARSE_ZH,
    CLI_HELP_ZH,
    CLI_SAYS,
    CLI_STATUS_COLUMNS,
    CLI_STATUS_FIELDS,
    CLI_STATUS_WORDS,
    OUTAGE_REASONS,
)
from bot.chat.text.catalogues.config_zh_cn import CONFIG_SENTENCES_ZH
from bot.chat.text.catalogues.en import EnglishWording
from engine.models import BatchStatus


class ChineseWording(EnglishWording):
    locale = "zh-CN"
    language_name = "简体中文"
    list_sep = "、"

    # commands
    unknown_command = "未知命令 {cmd}。发送 {help} 查看全部命令。"
    needs_workflow = "{cmd} 需要指定工作流：{cmd} <工作流>"
    one_workflow = "{cmd} 只接受一个工作流名称，收到的是“{got}”：{cmd} <工作流>"
    one_batch_id = "{cmd} 最多接受一个任务 ID：{cmd} [ID]"
    bad_batch_id = "“{got}”不是任务 ID。任务 ID 由 6 位 0-9、a-f 组成，例如 7f3a2c。"
    schedule_usage = (
        "{cmd} 需要先写时间、再写工作流名称：{cmd} <时间> <工作流>，"
        "例如 {cmd} tomorrow 09:00 summarize"
    )
    schedule_no_workflow = (
        "{cmd} 的最后一项应是工作流名称，而“{got}”看起来是时间的一部分：{cmd} <时间> <工作流>"
    )
    needs_schedule_id = "{cmd} 需要定时任务 ID：{cmd} <ID>（用 {list} 查看）"
    bad_schedule_id = "“{got}”不是定时任务 ID（用 {list} 查看）。"
    bad_button = "该按钮已失效。发送 {help} 重新开始。"
    # access
    may_not_use = "你没有使用工作流 {workflow} 的权限。"
    unknown_workflow = "没有名为 {workflow} 的工作流。发送 {list} 查看你可以使用的工作流。"
    not_yours = "任务 {id} 属于其他人。"
    # errors
    no_batch = "找不到任务 {id}。"
    no_schedule = "找不到定时任务 {id}。"
    no_batches = "你还没有任务。发送一个表格即可开始。"
    cannot_now = "现在无法执行此操作：{why}。"
    dify_error = "Dify 应用返回错误：{why}"
    config_error = "机器人配置有误，请联系管理员。"
    internal_error = "系统出错了（{kind}），请稍后重试。"
    # help
    help_lines: ClassVar[tuple[tuple[str, str], ...]] = (
        ("workflows", "查看你可以使用的工作流"),
        ("template <工作流>", "获取待填写的表格模板"),
        ("run <工作流>", "运行你发送的文件（也可在发送文件时附上此命令）"),
        ("status [ID]", "查看任务进度"),
        ("pause [ID]", "暂停：不再开始新的行"),
        ("resume [ID]", "继续运行"),
        ("cancel [ID]", "停止运行，并发送已完成的结果"),
        ("result [ID]", "重新发送结果表格"),
        ("retry [ID]", "重新运行失败的行"),
        ("schedule <时间> <工作流>", "稍后或定期运行你发送的文件"),
        ("schedules", "查看你的定时任务"),
        ("unschedule <ID>", "删除定时任务"),
    )
    help_head = "我可以用 Dify 应用逐行处理表格。发送 .xlsx 或 .csv 文件即可开始。"
    help_when = (
        "<时间>：2026-12-01 09:00、in 2h、tonight 02:00、tomorrow 09:00、every day 09:00、"
        'every weekday 09:00、every monday 08:30、cron "0 9 * * 1-5"。\n'
        "不带 ID 的命令作用于你最近的任务。"
    )
    workflows_head = "你可以使用的工作流："
    workflows_none = "你暂时没有可用的工作流，请联系管理员。"
    # progress
    status_names: ClassVar[dict[BatchStatus, str]] = {
        BatchStatus.SCHEDULED: "已定时",
        BatchStatus.PENDING: "排队中",
        BatchStatus.RUNNING: "运行中",
        BatchStatus.PAUSED: "已暂停",
        BatchStatus.COMPLETED: "已完成",
        BatchStatus.FAILED: "失败",
        BatchStatus.CANCELLED: "已取消",
    }
    progress_head = "{workflow} · 任务 {id}"
    counts = "{done}/{total} 行 · 成功 {ok} · 失败 {failed}"
    counts_cancelled = " · 已取消 {cancelled}"
    rate = "每分钟 {rate} 行 · 预计还需 {eta}"
    rate_unknown = "正在启动…"
    status_lines: ClassVar[dict[BatchStatus, str]] = {
        BatchStatus.SCHEDULED: "等待定时开始。",
        BatchStatus.PENDING: "排队中，有空闲名额时开始。",
        BatchStatus.PAUSED: "已暂停：不再开始新的行。发送 {resume} {id} 继续。",
        BatchStatus.COMPLETED: "已完成。",
        BatchStatus.FAILED: "失败：{error}",
        BatchStatus.CANCELLED: "已取消。",
    }
    # final
    final_head: ClassVar[dict[str, str]] = {
        "ok": "✅ {workflow} · 任务 {id} 已完成",
        "partial": "⚠️ {workflow} · 任务 {id} 已完成，{failed} 行失败",
        "cancelled": "⏹ {workflow} · 任务 {id} 已取消",
        "failed": "❌ {workflow} · 任务 {id} 失败：{error}",
    }
    final_counts = "共 {total} 行：成功 {ok}，失败 {failed}，未运行 {cancelled}"
    final_usage = "Token 用量：{tokens} · 耗时 {duration}"
    final_retry = "发送 {retry} {id} 只重跑失败的行。"
    final_result = "发送 {result} {id} 可再次获取结果表格。"
    results_caption_t = "{workflow} 运行结果（任务 {id}）：成功 {ok}，失败 {failed}"
    # sheets
    check_file = "📄 {filename}（工作表“{sheet}”）"
    check_ok_one = "✓ {rows} 行已就绪，可以运行 {workflow}。"
    check_ok_many = "✓ {rows} 行已就绪。请选择工作流：{workflows}。"
    check_empty = "表格里没有数据行，无法运行。"
    check_blank = "已跳过 {n} 个空行。"
    check_extra = "多出的列会原样保留：{columns}"
    check_bad = "✗ 发现 {n} 个问题，修正后才能运行："
    check_bad_tail = "附件副本已标出所有有问题的单元格。"
    problem_at = "第 {row} 行“{column}”列：{message}"
    problem_row = "第 {row} 行：{message}"
    problem_col = "“{column}”列：{message}"
    more = "……另有 {n} 条"
    # batches and schedules
    status_row = "{id} · {workflow} · {status} · {done}/{total}"
    status_row_failed = "（{failed} 行失败）"
    schedules_none = "你还没有定时任务。发送文件后，用 {schedule} <时间> <工作流> 创建。"
    schedule_row = "{id} · {workflow} · {when} · {filename} · 下次：{next}"
    schedule_inactive = "{id} · {workflow} · {when} · {filename} · 已停用"
    never = "无"
    scheduled = (
        "已设置定时：用 {workflow} 处理 {filename}，{when}。下次运行：{next}。"
        "定时任务 ID 为 {id}，发送 {unschedule} {id} 可删除。"
    )
    schedule_prompt = "{workflow} 什么时候运行？也可以回复该文件：{schedule} <时间> {workflow}。"
    unscheduled = "已删除定时任务 {id}。"
    discarded = "已丢弃 {filename}。"
    needs_file = "请在发送表格时附上说明 {cmd} <工作流>，或先发送表格，再点击下方按钮。"
    upload_gone = "该文件已不可用（已运行、已丢弃或已超过一周），请重新发送。"
    no_upload = "请先发送表格，再使用 {cmd} <工作流>。"
    file_refused_as_too_large = "{filename} 大小为 {size_mb:.1f} MB，超出了此聊天允许机器人发送的上限。"
    results_on_the_server = "请在服务器上获取结果表格：dify-batch result {batch_id}"
    results_not_sent = "结果表格发送失败（{kind}），发送 {cmd} {batch_id} 重试。"
    file_needs_membership = (
        "（我不在此频道中，无法在这里发送文件 {filename}。请用 /invite 邀请我，"
        "或在与我的私信中发送命令。）"
    )
    file_too_big = "{filename} 大小为 {size_mb:.1f} MB，上限为 {limit_mb:g} MB。请拆分后分别发送。"
    download_failed = "无法下载 {filename}，请重新发送。"
    download_html = (
        "Slack 返回的是登录页面而不是 {filename}，机器人无法读取这里的文件。"
        "请管理员为应用添加 files:read 权限，并把它加入此会话。"
    )
    template_caption = "每行填写一次运行的输入，填好后发回，并附上说明 {run} {workflow}。"
    no_scheduler = "此机器人未开启定时功能。"
    stranger = "你没有使用此机器人的权限，请联系管理员添加。"
    not_your_upload = "只有发送文件的人才能使用这些按钮。"
    starting = "正在用 {workflow} 处理 {filename}…"
    missed = "{workflow} 对 {filename} 的定时运行（原定 {due}）已跳过：机器人离线时间超过了宽限期。"
    missed_next = "下次运行：{next}。"
    # buttons
    button_labels: ClassVar[dict[str, str]] = {
        "run": "▶️ 运行",
        "schedule": "🕒 定时…",
        "discard": "🗑 丢弃",
        "try": "🧪 先试 3 行",
        "run_all": "▶️ 全部运行",
        "pause": "⏸ 暂停",
        "resume": "▶️ 继续",
        "cancel": "⏹ 取消",
        "result": "📥 结果",
        "tonight": "今晚 02:00",
        "tomorrow": "明天 09:00",
        "weekdays": "每个工作日 09:00",
        "in1h": "1 小时后",
    }
    picked = "✓ {workflow}"
    unreachable = "⚠️ 自 {since} UTC 起无法连接 Dify（已 {duration}）：{reason}。{next} 后重试。"
    paused_because = "已暂停：{error}。{resume} {id} 可继续。"
    check_estimate = "≈ {rows} 行 · 约 {duration}（同时 {in_flight} 行）· 约 {tokens} tokens（{basis}）"
    check_estimate_basis: ClassVar[dict[str, str]] = {
        "one": "依据之前 1 个任务", "many": "依据之前 {n} 个任务",
    }
    check_estimate_none = "≈ {rows} 行 · {workflow} 还没有运行记录，无法估算耗时和 tokens"
    estimate_units: ClassVar[dict[str, str]] = {"s": "{n:g} 秒", "min": "{n:g} 分钟", "h": "{n:g} 小时"}
    trying = "🧪 已在 {workflow} 上试跑 {filename} 的前 {n} 行（试跑任务 {id}）。"
    sample_head = "🧪 {filename} 的前 {n} 行在 {workflow} 上的结果："
    sample_ok = "第 {row} 行 ✓ {outputs}"
    sample_bad = "第 {row} 行 ✗ {status}：{error}"
    sample_slow = "试跑（任务 {id}）仍在运行，{status} {id} 可查看进度。"
    sample_tail = "要运行全部 {total} 行，还是丢弃这个文件？"
    button_done: ClassVar[dict[str, str]] = {
        "pause": "正在暂停任务 {id}。",
        "resume": "正在继续任务 {id}。",
        "cancel": "正在取消任务 {id}。",
        "result": "正在发送任务 {id} 的结果。",
    }
    command_blurbs: ClassVar[dict[str, str]] = {
        "start": "机器人简介",
        "help": "全部命令",
    }
    # compare (issue 15.6)
    compare_labels: ClassVar[dict[str, str]] = {
        "sheet": "对比",
        "comparison": "对比 ID",
        "source_file": "源文件",
        "workflow": "工作流",
        "batch": "任务",
        "rows": "行数",
        "succeeded": "成功",
        "failed": "失败",
        "success_rate": "成功率（%）",
        "median_s": "运行时间中位数（秒）",
        "p95_s": "运行时间 p95（秒）",
        "tokens": "tokens",
        "differ_heading": "输出不同的行",
        "differ_rows": "不同的行数",
        "differ_of": "总行数",
        "differs_column": "不同的输出",
        "note": "运行时间只统计成功的行。某一输出在各工作流中的值不完全相同，即算作该行不同。",
    }
    compare_twice = "每个工作流只能参与一次对比，重复的是：{names}"
    compare_xlsx_only = "--output {path}：对比结果只能写成 .xlsx 表格"
    compare_started = "对比 {id}：{total} 行，工作流 {workflows}"
    compare_batch = "  {workflow}：任务 {batch}"
    compare_resuming = "继续对比 {id}（{workflows}）"
    compare_bar = "{workflow} [{bar}] {done}/{total} 成功 {ok} 失败 {failed}"
    compare_figures = (
        "{workflow}：成功 {ok}，失败 {failed}，共 {total} 行（{rate}），中位数 {median}，"
        "p95 {p95}，{tokens} tokens"
    )
    compare_differs = "{column}：{total} 行中有 {n} 行不同"
    compare_no_time = "-"
    compare_paused = "对比 {id} 已暂停，运行中的行已保留。继续运行：dify-batch resume {id}"
    compare_not_written = (
        "对比 {id} 已完成，但结果表格 {path} 无法写入（{reason}）；"
        "解决后运行：dify-batch resume {id}"
    )
    compare_head = "对比 {id}"
    compare_progress_head = "⚖️ {filename}：{workflows} · 对比 {id}"
    compare_final_head = "⚖️ 对比 {id} 已完成：{filename}"
    compare_final_line = "{workflow}：成功 {ok}，失败 {failed} · {tokens} tokens"
    compare_final_result = "发送 {result} {id} 可再次获取对比表格。"
    compare_caption = "对比 {id}（{workflows}）：{differs}"
    compare_caption_differs = "{column} 在 {total} 行中有 {n} 行不同"
    compare_caption_same = "每一行的输出都相同"
    # compare follow-ups
    help_compare_usage = "run <工作流> <工作流>"
    help_compare = "用每个工作流运行你发送的文件，并对比它们的输出"
    compare_paused_all = (
        "已暂停对比 {id}（{batches}）；正在运行的行会完成并保留。"
        "继续运行：dify-batch resume {id}"
    )
    compare_cancelled_all = "已取消对比 {id}；dify-batch result {id} 可写出目前为止的对比表格。"
    compare_cancelled_line = (
        "  {workflow}（任务 {batch}）：共 {total} 行，成功 {ok}，失败 {failed}，已取消 {cancelled}"
    )
    compare_retrying = "正在重新运行对比 {id} 中失败的 {n} 行（{workflows}）"
    compare_status_column = "对比"
    compare_status_field = "对比"
    compare_incomplete = (
        "对比 {id} 在 {missing} 上没有任务：创建它的各个任务时被中断，没有任何行发送到那里。"
        "请用 dify-batch run <表格> {workflows} 重新开始对比，"
        "或单独继续已有的任务：dify-batch resume {batches}"
    )
    compare_missing_other = "其他工作流"
    compare_button_done: ClassVar[dict[str, str]] = {
        "pause": "正在暂停对比 {id}。",
        "resume": "正在继续对比 {id}。",
        "cancel": "正在取消对比 {id}。",
        "result": "正在发送对比 {id} 的表格。",
    }
    # charts (issue 15.7)
    chart_labels: ClassVar[dict[str, str]] = {
        "estimate_heading": "预估与实际",
        "estimate_rows": "行数",
        "estimate_duration": "耗时（秒）",
        "estimate_tokens": "Tokens",
        "estimated": "预估",
        "actual": "实际",
        "estimate_basis": "预估依据",
        "basis_one": "之前的 1 个任务，同时运行 {in_flight} 行",
        "basis_many": "之前的 {n} 个任务，同时运行 {in_flight} 行",
        "basis_none": "没有之前的任务，未预估耗时和 tokens",
        "outcomes_title": "各状态行数",
        "outcome": "状态",
        "rows": "行数",
        "run_time_title": "每行耗时分布",
        "run_time": "耗时",
        "bucket": "{low}–{high} 秒",
        "bucket_tail": "≥ {low} 秒",
    }
    # CLI (issue 14)
    cli_says: ClassVar[dict[str, str]] = CLI_SAYS
    cli_help: ClassVar[dict[str, str]] = CLI_HELP_ZH
    cli_argparse: ClassVar[dict[str, str]] = CLI_ARGPARSE_ZH
    cli_status_columns: ClassVar[dict[str, str]] = CLI_STATUS_COLUMNS
    cli_status_fields: ClassVar[dict[str, str]] = CLI_STATUS_FIELDS
    cli_status_words: ClassVar[dict[str, str]] = CLI_STATUS_WORDS
    outage_reasons: ClassVar[dict[str, str]] = OUTAGE_REASONS
    config_sentences: ClassVar[dict[str, str]] = CONFIG_SENTENCES_ZH
    # zh follow-ups
    engine_errors: ClassVar[dict[str, str]] = {
        "after_attempts": "{message}（已尝试 {n} 次）",
        "may_still_run": "{message}（运行 {run} 可能仍在进行）",
        "no_answer": "{s} 秒内没有响应",
        "no_result": "{s} 秒内没有拿到结果",
        "no_answer_call": "Dify 在 {s} 秒内没有回应 {call}",
        "connection_failed": "连接 Dify 失败：{what}",
        "not_json": "Dify 对运行请求的回应不是 JSON",
        "front_server": "Dify 前面的服务器返回了 HTTP {status}",
        "run_ended": "运行结束，状态为“{status}”",
        "kept_refusing": "Dify 连续 {s} 秒拒绝请求：{message}",
        "unreachable": "无法连接 Dify：{reason}",
        "internal": "内部错误：{what}",
        "cancelled": "已取消",
        "every_row_failed": "所有行都失败了",
        "storing_failed": "保存任务的行时出错（{kind}），任务不再继续",
        "restart_rows": "重启前只保存了 {total} 行中的 {stored} 行，其余的无法补上：{error}",
        "not_kept": "上传的文件没有保留",
        "reads_differently": "上传的文件读出的内容已与当初不同",
        "schedule_sheet_gone": "定时任务 {id} 保存的表格已不存在",
        "sheet_gone": "保存的表格 {name} 已不存在",
    }
    # units
    moment = "{time}（{zone}）"
    duration_h = "{h} 小时 {m} 分"
    duration_m = "{m} 分 {s} 秒"
    duration_s = "{s} 秒"
    # sheets, workbooks and the command line
    sheet: ClassVar[dict[str, str]] = {
        # the file as a whole
        "empty_file": "{filename} 是空文件（0 字节）。",
        "file_too_big": (
            "{filename} 大小为 {size}，超过上限 {limit}（由 [limits] max_file_mb 设定）。"
            "请拆分成较小的文件，或在配置中调大 [limits] max_file_mb。"
        ),
        "password": "{filename} 设有密码保护。请取消密码后重新发送。",
        "other_file": "{filename} 是 {what}，不是表格。请发送 .xlsx、.xls、.ods 或 .csv 文件。",
        "kind_pdf": "PDF 文档",
        "kind_png": "PNG 图片",
        "kind_jpeg": "JPEG 图片",
        "kind_gif": "GIF 图片",
        "kind_gzip": "gzip 压缩包",
        "kind_rar": "RAR 压缩包",
        "kind_7z": "7-Zip 压缩包",
        "kind_rtf": "RTF 文档",
        "html": "{filename} 是网页（HTML），不是表格。请用 Excel 打开后另存为 .xlsx。",
        "not_sheet": "{filename} 不是表格。请发送 .xlsx、.xls、.ods 或 .csv 文件。",
        "text_named_workbook": (
            "{filename} 的扩展名是 {ext}，内容却是纯文本，并非 Excel/ODS 工作簿。"
            "如果是 CSV，请改名为 .csv，或用 Excel 打开后另存为 .xlsx。"
        ),
        "unsupported_ext": "{filename}：不支持 {ext} 文件。请发送 .xlsx、.xls、.ods 或 .csv 文件。",
        "damaged_zip": "{filename} 已损坏（无法读取其 zip 容器）。",
        "word": "{filename} 是 Word 文档，不是表格。",
        "powerpoint": "{filename} 是 PowerPoint 演示文稿，不是表格。",
        "zip_not_workbook": "{filename} 是 zip 压缩包，不是工作簿。请发送 .xlsx、.xls、.ods 或 .csv 文件。",
        "part_too_large": "{filename}：其中的 {part} 大得不合常理，已拒收该文件。",
        "xml_entities": "{filename} 含有 XML 实体声明，出于安全考虑已拒收。",
        "damaged_content_list": "{filename} 已损坏（内容清单不是有效的 XML）。",
        "too_many_parts": "{filename} 包含 {n} 个部件，数量过多，已拒收。",
        "unzips_too_big": (
            "{filename} 解压后将达 {size}，超过 {limit} 的上限（这是 zip 炸弹的典型特征）。"
            "请删除不用的工作表或拆分文件。"
        ),
        "zip_ratio": (
            "{filename}：其中的 {part} 解压后膨胀 {ratio} 倍，这是 zip 炸弹的典型特征，已拒收该文件。"
        ),
        "unzips_more": "{filename} 解压后超过 {limit}（zip 头信息少报了大小），已拒收该文件。",
        "xml_dtd_part": "{filename} 含有 XML 实体或 DTD 声明（{part}），出于安全考虑已拒收。",
        "damaged_part": "{filename} 已损坏或已加密（{part}）。",
        "xml_tricks": "{filename} 含有 XML 实体构造，出于安全考虑已拒收。",
        "unreadable": "无法将 {filename} 作为 {kind} 工作簿读取：{error}",
        "csv_encoding": "该 CSV 文件既不是 UTF-8 也不是 GB18030 编码，请另存为“CSV UTF-8”格式。",
        # the header row
        "sheet_empty": "{filename}：工作表“{sheet}”是空的，需要一行表头和若干数据行。",
        "too_many_rows": (
            "{filename} 的数据超过 {limit} 行（上限由 [limits] max_rows 设定）。"
            "请拆分成较小的文件，或在配置中调大 [limits] max_rows。"
        ),
        "duplicate_columns": (
            "{filename}：“{first}”列和“{second}”列都对应“{label}”（{variable}），请只保留一列。"
        ),
        "missing_columns": (
            "{filename}：缺少必填列 {names}。现有表头：{header}。下载模板即可查看应有的表头。"
        ),
        "missing_column": "缺少列 {label}（{variable}）",
        # cells
        "cell_required": "必填，但单元格为空",
        "cell_no_header": "这个单元格所在的列没有表头",
        "more_problems": "……另有 {n} 个问题未列出",
        "not_json": "不是有效的 JSON（第 {pos} 个字符处：{error}）",
        "not_json_object": '必须是 JSON 对象，例如 {{"key": "value"}}',
        "one_url": "必须是一个 http(s) 链接，且只能有一个",
        "too_many_files": "最多 {limit} 个文件，实际有 {n} 个",
        "too_long": "超长：共 {n} 个字符，上限为 {limit}",
        "number_not_bool": "必须是数字，不能是 TRUE/FALSE",
        "not_number": "必须是数字，实际为“{value}”",
        "not_finite": "必须是有限的数字",
        "not_checkbox": "必须是 TRUE 或 FALSE（也可填 是/否、yes/no、1/0），实际为“{value}”",
        "not_option": "“{value}”不在可选项中：{options}",
        "not_url": "“{value}”不是 http(s) 链接",
        # a whole sheet refused at submit
        "rows_bad": "{filename} 中有 {n} 个问题，未开始运行。",
        "no_rows": "{filename} 中没有数据行，未开始运行。",
        "rows_not_scheduled": "{filename} 中有 {n} 个问题，未设置定时。",
        "form_mismatch": "表格与应用的输入表单不符",
        "problem_at": "第 {row} 行“{column}”列：{message}",
        "problem_row": "第 {row} 行：{message}",
    }
    when_sentences: ClassVar[dict[str, str]] = {
        "accepted": (
            "可用写法：2026-12-01 09:00、in 2h、in 1h30m、in 90 minutes、today 18:00、tonight 02:00、"
            'tomorrow 09:00、every day 09:00、every weekday 09:00、every monday 08:30、cron "0 9 * * 1-5"。'
        ),
        "no_time": "没有写时间。{accepted}",
        "not_understood": "无法识别时间“{text}”。{accepted}",
        "past_now": "{at} 已经过去了（现在是 {now}）。",
        "past": "{at} 已经过去了。",
        "not_clock": "“{token}”不是有效的钟点，请写成 09:00 或 9am。",
        "clock_seconds": "“{token}”：请只写小时和分钟，不要带秒。",
        "minute_digits": "“{token}”：分钟请写两位数，例如 09:05。",
        "ampm_hour": "“{token}”：使用 am/pm 时，小时须在 1–12 之间。",
        "hour_range": "“{token}”：小时须在 0–23 之间。",
        "minute_range": "“{token}”：分钟须在 0–59 之间。",
        "second_range": "“{token}”：秒须在 0–59 之间。",
        "dst_gap": "{at} 在 {zone} 时区不存在：夏令时切换会跳过这段时间。",
        "needs_clock": "“{word}”后面需要写钟点，例如 {word} 09:00。",
        "not_duration": "“in {rest}”不是有效的时长，请写成 in 2h、in 1h30m 或 in 90 minutes。",
        "not_unit": "“{unit}”不是时间单位，请用 d、h、m（天、小时、分钟）。",
        "too_far": "“in {rest}”太远了（最多 {days} 天）。",
        "not_future": "“in {rest}”就是现在，不是将来的时间。",
        "not_iso": "无法识别日期时间“{text}”，请写成 2026-12-01 09:00。",
        "no_clock_in_date": "“{text}”没有写钟点，请写成 {date} 09:00。",
        "month_range": "“{text}”：月份须在 1–12 之间。",
        "month_days": "“{text}”：{year} 年 {month}只有 {last} 天。",
        "bad_offset": "“{text}”：{offset} 不是有效的 UTC 时差。",
        "every_needs": (
            "“every {rest}”需要写明哪几天和钟点，例如 every day 09:00、every weekday 09:00 "
            "或 every monday 08:30（其他情况请用 cron）。"
        ),
        "not_day": (
            "“every {rest}”：“{word}”不是星期，请用 day、weekday 或星期名称"
            "（monday … sunday、mon … sun），例如 every mon,wed 08:30。"
        ),
        "cron_empty": 'cron 后面需要写 crontab 表达式，例如 cron "0 9 * * 1-5"。',
        "cron_dow_range": 'cron "{expr}"：星期值 {value} 超出范围（0–7，0 和 7 都表示星期日）',
        "cron_not_dow": 'cron "{expr}"：“{token}”不是星期（请用 0–7 或 sun、mon … sat）',
        "cron_dow_part": 'cron "{expr}"：无法识别星期部分“{item}”',
        "cron_zero_step": 'cron "{expr}"：“{item}”的步长为 0，永远不会前进',
        "cron_backwards": 'cron "{expr}"：范围“{item}”首尾颠倒了',
        "cron_fields": (
            'cron "{expr}" 有 {n} 个字段；crontab 需要 5 个：分 时 日 月 星期，例如 cron "0 9 * * 1-5"'
        ),
        "cron_both_days": 'cron "{expr}" 同时限定了日期和星期；请只限定其中一个（另一个写 *）',
        "cron_invalid": 'cron "{expr}"：{error}',
        "cron_never": 'cron "{expr}" 永远不会触发（没有符合的日期）',
        **{f"month_{n}": f"{n} 月" for n in range(1, 13)},
    }
    state_sentences: ClassVar[dict[str, str]] = {
        "cannot_become": "任务当前为“{state}”，无法变为“{target}”",
        "retry_not_final": "任务 {id} 已是“{state}”状态；如需重跑失败的行，请用重试",
        "no_failed_rows": "任务 {id} 没有需要重试的失败行",
        "changed_meanwhile": "任务 {id} 刚刚有了变化，请再试一次",
        "state_scheduled": "已定时",
        "state_pending": "排队中",
        "state_running": "运行中",
        "state_paused": "已暂停",
        "state_completed": "已完成",
        "state_failed": "失败",
        "state_cancelled": "已取消",
    }
    template_labels: ClassVar[dict[str, str]] = {
        "about_sheet": "说明",
        "title": "工作流“{workflow}”的输入模板",
        "intro": (
            "在 Inputs 工作表中每行填写一次运行的输入。"
            "表头顺序不限；多出的列会保留到结果中；空行会被跳过。"
        ),
        "head_column": "列名",
        "head_variable": "变量名",
        "head_type": "类型",
        "head_required": "是否必填",
        "head_options": "可选项",
        "head_max_length": "最大长度",
        "head_default": "默认值",
        "head_description": "说明",
        "yes": "是",
        "no": "否",
        "required": "必填",
        "optional": "选填",
        "note": "变量名：{variable}\n{need}；{type}",
        "max_files": "{n} 个文件",
        "max_chars": "{n} 个字符",
        "type_text-input": "文本",
        "type_paragraph": "文本（可较长）",
        "type_select": "从可选项中选一项",
        "type_number": "数字",
        "type_checkbox": "TRUE 或 FALSE",
        "type_file": "文件：一个 http(s) 链接",
        "type_file-list": "文件：多个 http(s) 链接，每行一个或用逗号分隔",
        "type_json_object": 'JSON 对象，例如 {{"key": "value"}}',
        "pick_option": "请从列表中选择一项。",
        "enter_number": "请输入数字。",
        "enter_bool": "请输入 TRUE 或 FALSE。",
        "at_most_chars": "最多 {n} 个字符。",
        "query_description": "发送给对话应用的消息（每行都是一次新对话）。",
        "problems_sheet": "问题",
        "problems_head_sheet": "工作表",
        "problems_head_row": "行",
        "problems_head_column": "列",
        "problems_head_problem": "问题",
    }
    summary_labels: ClassVar[dict[str, str]] = {
        "results_sheet": "结果",
        "sheet": "汇总",
        "workflow": "工作流",
        "app_version": "应用版本（workflow_id）",
        "batch": "任务",
        "owner": "发起人",
        "source_file": "源文件",
        "batch_status": "任务状态",
        "created": "创建时间（UTC）",
        "started": "开始时间（UTC）",
        "finished": "结束时间（UTC）",
        "rows": "总行数",
        "rows_in": "{status}行数",
        "blank_rows": "跳过的空行",
        "total_tokens": "Token 总用量",
        "wall_time": "总耗时（秒）",
        "row_time_total": "各行耗时合计（秒）",
        "row_time_mean": "每行平均耗时（秒）",
        "row_time_max": "单行最长耗时（秒）",
        "error": "错误",
        "columns": "各列说明",
        "note_status": "成功、失败、已取消；等待或运行中表示写出此文件时该行尚未运行",
        "note_error": "该行失败的原因，Dify 给出原因时用 Dify 的原话",
        "note_attempts": "该行发送给 Dify 的次数（临时错误后的重试也计入）",
        "note_elapsed_s": "该行最后一次调用 Dify 用时（秒）",
        "note_tokens": "Dify 为该行报告的 tokens",
        "note_run_id": "Dify 的运行 ID：可在 Dify 应用日志中找到这次运行",
        "status_pending": "待运行",
        "status_running": "运行中",
        "status_succeeded": "成功",
        "status_failed": "失败",
        "status_cancelled": "已取消",
        "status_scheduled": "已定时",
        "status_paused": "已暂停",
        "status_completed": "已完成",
    }
    cli_progress = "[{bar}] {done}/{total} 成功 {ok} 失败 {failed}"
    cli_cancelled = " 已取消 {cancelled}"
    cli_rate = " | 每分钟 {rate} 行"
    cli_eta = " | 预计还需 {eta}"
    cli_error = "dify-batch：{message}"
    cli_problem = "  - {problem}"
    cli_more_problem = "  …… 另有 1 个问题"
    cli_more_problems = "  …… 另有 {n} 个问题"
    cli_marked = "有问题的单元格已在 {path} 中标出。"
    cli_marked_failed = "（标注副本无法写入 {path}：{reason}。）"
    cli_unreachable = "自 {since} 起无法连接 Dify（已 {duration}）"
    cli_unreachable_why = "：{reason}"
    cli_next_try = " | {wait}后重试"
    cli_summary = "{status}：成功 {ok}，失败 {failed}{cancelled}，共 {total} 行{took}，{tokens} tokens"
    cli_summary_cancelled = "，已取消 {n}"
    cli_summary_took = "，用时 {duration}"
    cli_paused = "任务 {id} 已暂停{by}，运行中的行已保留。继续运行：dify-batch resume {id}"
    cli_paused_elsewhere = "（由 dify-batch pause 或聊天中的按钮暂停）"
    cli_paused_itself = "任务 {id} 已自动暂停：{error}。"
    cli_paused_grace = (
        "任务 {id} 已暂停；{grace} 秒后仍在运行的行会在继续时向 Dify 核对。继续运行：dify-batch resume {id}"
    )
    cli_pausing = "正在暂停：等待运行中的行完成（最多 {grace} 秒；再按一次 Ctrl-C 立即停止）……"


WORDING = ChineseWording
