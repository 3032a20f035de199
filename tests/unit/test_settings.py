import pytest

from core.settings import SettingsError, from_env


def test_defaults_need_no_environment():
    settings = from_env({})
    assert settings.database_url is None and settings.redis_url is None
    assert (settings.host, settings.port, settings.home) == ("127.0.0.1", 8000, "./.fieldwork")


def test_values_are_read_and_converted():
    settings = from_env({"FIELDWORK_PORT": "9001", "DATABASE_URL": "postgresql://db/x", "FIELDWORK_LOG_LEVEL": "DEBUG"})
    assert settings.port == 9001 and settings.database_url == "postgresql://db/x" and settings.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("FIELDWORK_PORT", "eighty", "TCP port"),
        ("FIELDWORK_PORT", "70000", "TCP port"),
        ("FIELDWORK_ACCESS_TOKEN_TTL", "0", "seconds"),
        ("FIELDWORK_LOG_LEVEL", "LOUD", "DEBUG, INFO"),
        ("FIELDWORK_MAX_BODY_BYTES", "12", ">= 1024"),
        ("FIELDWORK_NAMESPACE", "Has Spaces", "Redis key prefix"),
        ("FIELDWORK_WEBHOOK_ALLOW_NETWORKS", "10.20.0.0/33", "comma-separated CIDRs"),
        ("FIELDWORK_WEBHOOK_ALLOW_NETWORKS", "10.20.0.1/16", "has host bits set"),
        ("FIELDWORK_WEBHOOK_ALLOW_NETWORKS", "10.20.0.0/16;fd00::/8", "comma-separated CIDRs"),
        ("FIELDWORK_WEBHOOK_ALLOW_NETWORKS", "intranet", "comma-separated CIDRs"),
        ("FIELDWORK_REQUEST_BODY_TIMEOUT", "0", "408"),
        ("FIELDWORK_TRUSTED_PROXIES", "proxy.internal", "CIDR"),
    ],
)
def test_a_bad_value_names_the_variable_and_what_it_expects(variable, value, expected):
    with pytest.raises(SettingsError) as caught:
        from_env({variable: value})
    assert variable in str(caught.value) and expected in str(caught.value)


def test_a_short_secret_is_refused_without_echoing_it():
    with pytest.raises(SettingsError) as caught:
        from_env({"FIELDWORK_SECRET_KEY": "hunter2"})
    assert "FIELDWORK_SECRET_KEY" in str(caught.value) and "hunter2" not in str(caught.value)


def test_trusted_proxies_are_none_by_default_and_a_list_when_set():
    assert from_env({}).trusted_proxy_list == []
    settings = from_env({"FIELDWORK_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1,::1"})
    assert settings.trusted_proxy_list == ["10.0.0.0/8", "127.0.0.1", "::1"]
