"""Policy files are parsed and validated once; a bad file stops start-up with file, line and message."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from policies import PolicyEngine, PolicyLoadError, load_policies
from policies.loader import DEFAULT_POLICY_DIR, split_statements


def _copy(tmp_path: Path) -> Path:
    d = tmp_path / "cedar"
    shutil.copytree(DEFAULT_POLICY_DIR, d)
    return d


def test_packaged_policies_load_with_unique_ids() -> None:
    loaded = load_policies(approval_groups={"marketing-leadership": 1, "vp": 2})
    ids = [r.rule_id for r in loaded.rules.values()]
    assert len(ids) == len(set(ids))
    by_id = loaded.by_rule_id()
    assert by_id["budget.vp_approval"].approval_group == "vp"
    assert by_id["budget.leadership_approval"].approval_group == "marketing-leadership"
    assert by_id["tenant.cross"].line > 1


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    bad = d / "extra.cedar"
    bad.write_text(
        '// extra rules\n@id("ok.one")\n@reason("fine")\nforbid (principal, action, resource)\n'
        'when { context.rate_limited };\n\n@id("broken")\npermit (principal, action resource);\n'
    )
    with pytest.raises(PolicyLoadError) as exc:
        PolicyEngine.from_directory(d)
    err = exc.value
    assert err.file is not None and err.file.endswith("extra.cedar")
    assert err.line == 7
    assert "syntax error" in str(err) and "extra.cedar:7" in str(err)


def test_schema_invalid_policy_is_rejected(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    (d / "zz.cedar").write_text(
        '@id("bad.attr")\n@reason("r")\nforbid (principal, action, resource)\nwhen { context.no_such_attr };\n'
    )
    with pytest.raises(PolicyLoadError, match=r"zz\.cedar:1: schema validation failed.*no_such_attr"):
        PolicyEngine.from_directory(d)


def test_type_error_in_policy_is_rejected(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    (d / "zz.cedar").write_text(
        '@id("bad.type")\n@reason("r")\nforbid (principal, action, resource)\nwhen { context.budget_error > 3 };\n'
    )
    with pytest.raises(PolicyLoadError, match="schema validation failed"):
        PolicyEngine.from_directory(d)


def test_missing_id_and_duplicate_id_and_reason(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    extra = d / "zz.cedar"
    extra.write_text("forbid (principal, action, resource) when { context.rate_limited };\n")
    with pytest.raises(PolicyLoadError, match="no @id"):
        PolicyEngine.from_directory(d)
    extra.write_text('@id("tenant.cross")\n@reason("x")\nforbid (principal, action, resource);\n')
    with pytest.raises(PolicyLoadError, match=r"duplicate @id 'tenant\.cross'"):
        PolicyEngine.from_directory(d)
    extra.write_text('@id("no.reason")\nforbid (principal, action, resource);\n')
    with pytest.raises(PolicyLoadError, match="no @reason"):
        PolicyEngine.from_directory(d)
    extra.write_text('@id("a.g")\n@reason("x")\n@approval_group("cfo")\nforbid (principal, action, resource);\n')
    with pytest.raises(PolicyLoadError, match="approval_group"):
        PolicyEngine.from_directory(d)


def test_bad_schema_and_missing_files(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    (d / "schema.cedarschema").write_text("entity User in [Group;\n")
    with pytest.raises(PolicyLoadError, match=r"schema\.cedarschema: schema error"):
        PolicyEngine.from_directory(d)
    with pytest.raises(PolicyLoadError, match="does not exist"):
        PolicyEngine.from_directory(tmp_path / "nope")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(PolicyLoadError, match="exactly one"):
        PolicyEngine.from_directory(empty)


def test_split_statements_ignores_semicolons_in_strings_and_comments() -> None:
    text = (
        '// a; b\n@id("x;y")\npermit (principal, action, resource);\n\n'
        '@reason("a;b")\n@id("z")\nforbid (principal, action, resource);'
    )
    stmts = split_statements(text)
    assert [line for line, _ in stmts] == [2, 5]
