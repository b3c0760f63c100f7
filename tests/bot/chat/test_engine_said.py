"""The engine's stored English read back by shape and said in the reader's language; what
Dify or the network said passes through unchanged."""

from __future__ import annotations

import pytest

from bot.chat.text.engine_said import engine_error
from bot.chat.text.renderer import messages_for
from engine.errors import NotFound, TransientWorkflowError

ZH = messages_for("zh-CN")


@pytest.mark.parametrize(("stored", "said"), [
    ("no result within 600 s (run r-1 may still be going) (after 3 attempts)",
     "600 秒内没有拿到结果（运行 r-1 可能仍在进行）（已尝试 3 次）"),
    ("Dify did not answer GET /workflows/run/r-1 within 30 s",
     "Dify 在 30 秒内没有回应 GET /workflows/run/r-1"),
    ("HTTP 502 Bad Gateway from the server in front of Dify (after 3 attempts)",
     "Dify 前面的服务器返回了 HTTP 502 Bad Gateway（已尝试 3 次）"),
    ("Dify is unreachable: cannot resolve the host name dify.local",
     "无法连接 Dify：无法解析主机名 dify.local"),
    ("storing its rows failed (OperationalError); nothing more will run",
     "保存任务的行时出错（OperationalError），任务不再继续"),
    ("the stored sheet of schedule s-1 is gone", "定时任务 s-1 保存的表格已不存在"),
    # Dify's own words stay as Dify wrote them
    ("Node LLM run failed: quota exceeded", "Node LLM run failed: quota exceeded"),
    ("Dify kept refusing for 300 s: Too many requests", "Dify 连续 300 秒拒绝请求：Too many requests"),
])
def test_a_known_shape_is_said_in_chinese_and_difys_words_are_kept(stored: str, said: str) -> None:
    assert engine_error(stored, ZH) == said
    assert engine_error(stored, messages_for("en")) == stored


def test_an_error_reply_says_the_engines_part_in_chinese() -> None:
    down = TransientWorkflowError("Dify is unreachable: connection refused by dify.local:80", outage=True)
    assert ZH.error_text(down) == "Dify 应用返回错误：无法连接 Dify：dify.local:80 拒绝连接"
    assert ZH.error_text(NotFound("the stored sheet ab.xlsx is gone")) == "保存的表格 ab.xlsx 已不存在"
