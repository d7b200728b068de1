"""The credential chain: explicit, SCF variables, SDK variables, tccli and SDK profile files (temporary HOME)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lib.client.credentials import Credentials, profile_files, resolve_credentials
from lib.errors import CredentialError

SCF = {"TENCENTCLOUD_SECRETID": "AKIDscf", "TENCENTCLOUD_SECRETKEY": "scf-key", "TENCENTCLOUD_SESSIONTOKEN": "scf-tok"}
SDK = {"TENCENTCLOUD_SECRET_ID": "AKIDsdk", "TENCENTCLOUD_SECRET_KEY": "sdk-key", "TENCENTCLOUD_TOKEN": "sdk-tok"}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def env(home: Path, **variables: str) -> dict[str, str]:
    return {"HOME": str(home), **variables}


def resolve(environ: dict[str, str], explicit: Credentials | None = None, system: Path | None = None) -> Credentials:
    return resolve_credentials(environ, explicit, system_file=system)


def write_tccli(home: Path, profile: str = "default", **fields: str) -> Path:
    path = home / ".tccli" / f"{profile}.credential"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(fields), encoding="utf-8")
    return path


def write_ini(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_explicit_credentials_win(home: Path) -> None:
    explicit = Credentials("AKIDexplicit", "explicit-key")
    assert resolve(env(home, **SCF, **SDK), explicit) == explicit


def test_scf_variables_come_before_sdk_variables_and_carry_their_token(home: Path) -> None:
    assert resolve(env(home, **SCF, **SDK)) == Credentials("AKIDscf", "scf-key", "scf-tok")


def test_sdk_variables_with_token(home: Path) -> None:
    assert resolve(env(home, **SDK)) == Credentials("AKIDsdk", "sdk-key", "sdk-tok")
    without = {k: v for k, v in SDK.items() if k != "TENCENTCLOUD_TOKEN"}
    assert resolve(env(home, **without)) == Credentials("AKIDsdk", "sdk-key", None)


def test_a_token_from_one_family_is_never_paired_with_the_other(home: Path) -> None:
    found = resolve(env(home, TENCENTCLOUD_SESSIONTOKEN="stray", **{k: v for k, v in SDK.items() if "TOKEN" not in k}))
    assert found == Credentials("AKIDsdk", "sdk-key", None)


@pytest.mark.parametrize(
    ("variables", "present", "missing"),
    [
        ({"TENCENTCLOUD_SECRETID": "AKIDx"}, "TENCENTCLOUD_SECRETID", "TENCENTCLOUD_SECRETKEY"),
        ({"TENCENTCLOUD_SECRET_KEY": "k"}, "TENCENTCLOUD_SECRET_KEY", "TENCENTCLOUD_SECRET_ID"),
    ],
)
def test_half_a_credential_is_an_error_naming_both_variables(
    home: Path, variables: dict[str, str], present: str, missing: str
) -> None:
    with pytest.raises(CredentialError) as caught:
        resolve(env(home, **variables))
    assert present in str(caught.value)
    assert missing in str(caught.value)


def test_whitespace_around_a_secret_is_refused_without_echoing_it(home: Path) -> None:
    with pytest.raises(CredentialError, match="whitespace") as caught:
        resolve(env(home, TENCENTCLOUD_SECRET_ID="AKIDsdk", TENCENTCLOUD_SECRET_KEY="top-secret-value\n"))
    assert "top-secret-value" not in str(caught.value)
    assert "TENCENTCLOUD_SECRET_ID" in str(caught.value)


def test_tccli_profile_file(home: Path) -> None:
    write_tccli(home, secretId="AKIDcli", secretKey="cli-key", token="cli-tok", region="ap-guangzhou")
    assert resolve(env(home)) == Credentials("AKIDcli", "cli-key", "cli-tok")


def test_tccli_profile_is_chosen_by_tccli_profile(home: Path) -> None:
    write_tccli(home, secretId="AKIDdefault", secretKey="k0")
    write_tccli(home, "work", secretId="AKIDwork", secretKey="k1")
    assert resolve(env(home, TCCLI_PROFILE="work")).secret_id == "AKIDwork"
    assert resolve(env(home)).secret_id == "AKIDdefault"


def test_variables_come_before_files(home: Path) -> None:
    write_tccli(home, secretId="AKIDcli", secretKey="cli-key")
    assert resolve(env(home, **SDK)).secret_id == "AKIDsdk"


def test_sdk_ini_file_and_its_order(home: Path, tmp_path: Path) -> None:
    ini = write_ini(home / ".tencentcloud" / "credentials", "[default]\nsecret_id = AKIDini\nsecret_key = ini-key\n")
    system = write_ini(tmp_path / "etc" / "credentials", "[default]\nsecret_id=AKIDetc\nsecret_key=etc-key\n")
    assert resolve(env(home), system=system) == Credentials("AKIDini", "ini-key")
    write_tccli(home, secretId="AKIDcli", secretKey="cli-key")
    assert resolve(env(home), system=system).secret_id == "AKIDcli"  # tccli file first
    (home / ".tccli" / "default.credential").unlink()
    ini.unlink()
    assert resolve(env(home), system=system).secret_id == "AKIDetc"  # then /etc/tencentcloud/credentials


def test_ini_file_reads_like_the_official_sdk(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tencentcloud.common.credential import EnvironmentVariableCredential, ProfileCredential

    write_ini(
        home / ".tencentcloud" / "credentials",
        "[other]\nsecret_id = AKIDother\nsecret_key = x\n\n[default]\nsecret_id =  AKIDini \nsecret_key = k%ey\n",
    )
    monkeypatch.setenv("HOME", str(home))
    for name in (*SCF, *SDK):
        monkeypatch.delenv(name, raising=False)
    sdk = ProfileCredential().get_credential()
    mine = resolve(env(home))
    assert (mine.secret_id, mine.secret_key) == (sdk.secret_id, sdk.secret_key) == ("AKIDini", "k%ey")

    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", "AKIDsdk")
    monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", "sdk-key")
    sdk_env = EnvironmentVariableCredential().get_credential()
    mine = resolve_credentials(None, system_file=None)  # None reads os.environ, like the SDK
    assert (mine.secret_id, mine.secret_key) == (sdk_env.secret_id, sdk_env.secret_key)


def test_a_role_only_tccli_profile_is_skipped(home: Path) -> None:
    write_tccli(home, type="cvm-role")
    write_ini(home / ".tencentcloud" / "credentials", "[default]\nsecret_id=AKIDini\nsecret_key=k\n")
    assert resolve(env(home)).secret_id == "AKIDini"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"secretId": "AKIDx"}', "not the other"),
        ('{"secretId": 1, "secretKey": 2}', "must be strings"),
    ],
)
def test_broken_tccli_files_are_errors_naming_the_file(home: Path, content: str, message: str) -> None:
    path = home / ".tccli" / "default.credential"
    path.parent.mkdir(parents=True)
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CredentialError, match=message) as caught:
        resolve(env(home))
    assert str(path) in str(caught.value)


def test_broken_ini_is_an_error_naming_the_file(home: Path) -> None:
    path = write_ini(home / ".tencentcloud" / "credentials", "secret_id = no section header\n")
    with pytest.raises(CredentialError, match="cannot read") as caught:
        resolve(env(home))
    assert str(path) in str(caught.value)


def test_nothing_found_names_every_variable_and_file(home: Path, tmp_path: Path) -> None:
    with pytest.raises(CredentialError) as caught:
        resolve(env(home), system=tmp_path / "none")
    text = str(caught.value)
    for name in (*SCF, *SDK):
        assert name in text
    for path in profile_files(env(home), tmp_path / "none"):
        assert str(path) in text


def test_empty_explicit_credentials_are_refused(home: Path) -> None:
    with pytest.raises(CredentialError, match="explicit"):
        resolve(env(home, **SDK), Credentials("", "key"))


def test_repr_never_shows_the_secret() -> None:
    text = repr(Credentials("AKIDabcdefgh", "very-secret-key", "very-secret-token"))
    assert "very-secret" not in text
    assert "AKIDab" in text
