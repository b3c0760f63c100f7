"""Every language says everything English says, with the same placeholders; a person's
language is read from how platforms and environments spell it."""

from __future__ import annotations

import string
from typing import Any, ClassVar

import pytest

from bot.chat.text.catalogues import catalogues, locale_for, locale_from_environment, match_locale
from bot.chat.text.catalogues.en import EnglishWording
from bot.chat.text.catalogues.zh_cn import ChineseWording
from bot.chat.text.renderer import MessageBook, messages_for


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def _templates() -> list[str]:
    """The names every catalogue must give: EnglishWording's data, not its machinery."""
    return sorted(
        name for name, value in vars(EnglishWording).items()
        if not name.startswith("_") and not callable(value) and name != "locale"
    )


def gaps(wording: type[EnglishWording]) -> list[str]:
    """What ``wording`` lacks or words with other placeholders than English."""
    found: list[str] = []
    for name in _templates():
        mine = next((vars(k)[name] for k in wording.__mro__ if k is not EnglishWording
                     and name in vars(k)), None)
        if mine is None:
            found.append(f"{name}: not translated")
            continue
        found += _compare(name, getattr(EnglishWording, name), mine)
    return found


def _compare(name: str, english: Any, mine: Any) -> list[str]:
    if isinstance(english, str):
        if not isinstance(mine, str):
            return [f"{name}: not a string"]
        if _fields(english) != _fields(mine):
            return [f"{name}: placeholders {sorted(_fields(mine))} instead of {sorted(_fields(english))}"]
        return []
    if isinstance(english, dict):
        if set(english) != set(mine):
            return [f"{name}: keys differ: {sorted(map(str, set(english) ^ set(mine)))}"]
        return [p for key in english for p in _compare(f"{name}[{key}]", english[key], mine[key])]
    if isinstance(english, tuple):  # help lines: (usage, what)
        if len(english) != len(mine):
            return [f"{name}: {len(mine)} entries instead of {len(english)}"]
        problems = []
        for i, ((usage, what), (my_usage, my_what)) in enumerate(zip(english, mine, strict=True)):
            command, mine_command = usage.split()[0], my_usage.split()[0]
            if command != mine_command:
                problems.append(f"{name}[{i}]: command {mine_command!r} instead of {command!r}")
            problems += _compare(f"{name}[{i}]", what, my_what)
        return problems
    return []


@pytest.mark.parametrize("locale", sorted(catalogues()))
def test_every_catalogue_says_everything_with_the_same_placeholders(locale: str) -> None:
    wording = catalogues()[locale]
    if wording is EnglishWording:
        return
    assert gaps(wording) == []


def test_the_check_catches_a_missing_translation_and_a_changed_placeholder() -> None:
    class Careless(ChineseWording):
        no_batch = "找不到任务 {batch}。"
        summary_labels: ClassVar[dict[str, str]] = {
            k: v for k, v in ChineseWording.summary_labels.items() if k != "error"
        }

    class Partial(EnglishWording):
        locale = "xx"
        help_head = "only this"

    assert gaps(Careless) == [
        "no_batch: placeholders ['batch'] instead of ['id']",
        "summary_labels: keys differ: ['error']",
    ]
    assert "help_head: not translated" not in gaps(Partial)
    assert "no_batch: not translated" in gaps(Partial)


def test_both_languages_are_found_without_being_listed_anywhere() -> None:
    assert {"en", "zh-CN"} <= set(catalogues())


@pytest.mark.parametrize(
    ("tag", "locale"),
    [
        ("zh", "zh-CN"), ("zh-hans", "zh-CN"), ("zh-CN", "zh-CN"), ("zh-cn", "zh-CN"),
        ("zh-Hant", "zh-CN"), ("zh-TW", "zh-CN"), ("zh_CN.UTF-8", "zh-CN"), ("zh_CN.GB18030", "zh-CN"),
        ("en", "en"), ("en-US", "en"), ("en_GB.UTF-8", "en"),
        ("fr", None), ("pt-br", None), ("C", None), ("C.UTF-8", None), ("POSIX", None),
        ("", None), (None, None),
    ],
)
def test_language_tags_as_platforms_spell_them(tag: str | None, locale: str | None) -> None:
    assert match_locale(tag) == locale


def test_auto_answers_in_the_persons_language_and_a_setting_forces_one() -> None:
    assert locale_for("auto", "zh-hans") == "zh-CN"
    assert locale_for("auto", "de") == "en"
    assert locale_for("auto", None) == "en"
    assert locale_for("en", "zh-hans") == "en"
    assert locale_for("zh-CN", "en") == "zh-CN"


def test_the_cli_reads_lc_all_then_lc_messages_then_lang() -> None:
    assert locale_from_environment({"LANG": "zh_CN.UTF-8"}) == "zh-CN"
    assert locale_from_environment({"LANG": "zh_CN.UTF-8", "LC_MESSAGES": "en_US.UTF-8"}) == "en"
    assert locale_from_environment({"LC_ALL": "zh_CN.UTF-8", "LC_MESSAGES": "en_US.UTF-8"}) == "zh-CN"
    assert locale_from_environment({"LC_ALL": "", "LANG": "zh_CN.UTF-8"}) == "zh-CN"
    assert locale_from_environment({}) == "en"
    assert locale_from_environment({"LANG": "C.UTF-8"}) == "en"


def test_chinese_durations_and_lists_read_the_chinese_way() -> None:
    zh = messages_for("zh-CN")
    assert zh.duration(750) == "12 分 30 秒"
    assert zh.duration(3 * 3600 + 5 * 60) == "3 小时 5 分"
    assert zh.duration(8) == "8 秒"
    assert messages_for("en").duration(750) == "12m 30s"
    assert zh.help_text().startswith("我可以用 Dify 应用逐行处理表格")
    assert "/status [ID] — 查看任务进度" in zh.help_text()
    assert "/run <工作流> <工作流> — 用每个工作流运行你发送的文件，并对比它们的输出" in zh.help_text()


def test_a_book_keeps_the_platforms_spelling_in_every_language() -> None:
    book = MessageBook("auto", prefix="/difybatch ")
    zh = book.for_person("zh-CN")
    assert zh.locale == "zh-CN"
    assert zh.cmd("status") == "/difybatch status"
    assert book.for_person("en-US").locale == "en"
    assert book.for_locale("zh-CN") is zh
    assert book.for_locale("unknown").locale == "en"
    assert MessageBook("zh-CN").for_person("en").locale == "zh-CN"
