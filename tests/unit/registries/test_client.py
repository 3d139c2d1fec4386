"""The HTTP client: retries, timeouts, truncated bodies, size caps, and where a token may go."""

from __future__ import annotations

import httpx
import pytest

from skillpm.errors import SourceError
from skillpm.registries.client import Answer, Auth, error_detail, request, url_under


@pytest.mark.parametrize(
    ("url", "base", "under"),
    [
        ("https://r.example/index/a/b", "https://r.example/", True),
        ("https://r.example/", "https://r.example/", True),
        ("https://r.example:443/x", "https://r.example/", True),
        ("https://R.EXAMPLE/x", "https://r.example/", True),
        ("http://r.example/x", "https://r.example/", False),  # scheme
        ("https://r.example:8443/x", "https://r.example/", False),  # port
        ("https://cdn.example/x", "https://r.example/", False),  # host
        ("https://r.example.evil/x", "https://r.example/", False),
        ("https://r.example/reg2/x", "https://r.example/reg/", False),  # path prefix is per segment
        ("https://r.example/reg", "https://r.example/reg/", True),
        ("https://r.example/reg/x", "https://r.example/reg/", True),
        # dot segments: compared as httpx sends them
        ("https://r.example/reg/../admin", "https://r.example/reg/", False),
        ("https://r.example/reg/a/../../admin", "https://r.example/reg/", False),
        ("https://r.example/reg/..", "https://r.example/reg/", False),
        ("https://r.example/reg/./x", "https://r.example/reg/", True),
        ("https://r.example/reg/a/../x", "https://r.example/reg/", True),
        ("https://r.example/reg/x?a=/../admin", "https://r.example/reg/", True),
        # encoded dots and slashes a server might decode: never under
        ("https://r.example/reg/%2e%2e/admin", "https://r.example/reg/", False),
        ("https://r.example/reg/%2E%2E/admin", "https://r.example/reg/", False),
        ("https://r.example/reg/..%2fadmin", "https://r.example/reg/", False),
        ("https://r.example/reg/%2F..%2Fadmin", "https://r.example/reg/", False),
        ("https://r.example/reg/..%5cadmin", "https://r.example/reg/", False),
        ("https://r.example:99999/x", "https://r.example/", False),
    ],
)
def test_url_under(url, base, under):
    assert url_under(url, base) is under


def test_auth_header_only_in_scope_and_repr_hides_the_token():
    auth = Auth("tok-123", ("https://r.example/",))
    assert auth.header_for("https://r.example/index/x") == {"Authorization": "Bearer tok-123"}
    assert auth.header_for("https://cdn.example/dl/x") == {}
    assert "tok-123" not in repr(auth)


def test_retries_5xx_then_succeeds(mock_net):
    answers = iter([httpx.Response(503), httpx.Response(502), httpx.Response(200, content=b"ok")])
    seen = mock_net(lambda req: next(answers))
    assert request("GET", "https://r.example/config.json").content == b"ok"
    assert len(seen) == 3


def test_500s_fail_clearly_after_bounded_retries(mock_net):
    seen = mock_net(lambda req: httpx.Response(500))
    with pytest.raises(SourceError, match=r"server error 500 after 3 attempts"):
        request("GET", "https://r.example/config.json")
    assert len(seen) == 3


def test_timeouts_and_connection_errors(mock_net):
    def slow(req):
        raise httpx.ReadTimeout("slow", request=req)

    seen = mock_net(slow)
    with pytest.raises(SourceError, match="timed out after 3 attempts"):
        request("GET", "https://r.example/x")
    assert len(seen) == 3

    def refused(req):
        raise httpx.ConnectError("connection refused", request=req)

    mock_net(refused)
    with pytest.raises(SourceError, match="cannot connect"):
        request("GET", "https://r.example/x")


def test_non_idempotent_requests_are_not_retried_after_sending(mock_net):
    seen = mock_net(lambda req: httpx.Response(500))
    with pytest.raises(SourceError, match="server error 500"):
        request("PUT", "https://r.example/api/v1/skills/a/b/1.0.0", content=b"x", idempotent=False)
    assert len(seen) == 1


def test_truncated_body_is_retried_then_refused(mock_net):
    seen = mock_net(lambda req: httpx.Response(200, content=b"half", headers={"Content-Length": "100"}))
    with pytest.raises(SourceError, match=r"truncated response \(4 of 100 bytes\)"):
        request("GET", "https://r.example/dl/x.tar.gz")
    assert len(seen) == 3


def test_body_size_cap(mock_net):
    mock_net(lambda req: httpx.Response(200, content=b"x" * 2000))
    with pytest.raises(SourceError, match="over the limit of 1000"):
        request("GET", "https://r.example/big", max_bytes=1000)


def test_redirects_recheck_the_token_scope(mock_net):
    def handler(req):
        if req.url.host == "r.example" and req.url.path == "/dl/a":
            return httpx.Response(302, headers={"Location": "https://cdn.example/blob/a"})
        if req.url.host == "r.example" and req.url.path == "/moved":
            return httpx.Response(301, headers={"Location": "/index/x"})
        return httpx.Response(200, content=b"data")

    seen = mock_net(handler)
    auth = Auth("tok-xyz", ("https://r.example/",))
    assert request("GET", "https://r.example/dl/a", auth=auth).content == b"data"
    assert seen[0].headers.get("authorization") == "Bearer tok-xyz"
    assert "authorization" not in seen[1].headers  # another host: no token
    seen.clear()
    request("GET", "https://r.example/moved", auth=auth)
    assert [r.headers.get("authorization") for r in seen] == ["Bearer tok-xyz", "Bearer tok-xyz"]


def test_4xx_answers_are_returned_not_raised(mock_net):
    mock_net(lambda req: httpx.Response(404))
    assert request("GET", "https://r.example/index/a/b").status == 404


def test_error_detail_shapes():
    def answer(status, body):
        return Answer(status, httpx.Headers(), body, "https://r.example/")

    assert error_detail(answer(409, b'{"errors": [{"detail": "already\\n published"}]}')) == "already published"
    assert error_detail(answer(403, b'{"errors": [{"detail": "a"}, {"detail": "b"}]}')) == "a; b"
    assert error_detail(answer(502, b"<html>")) == "HTTP 502 Bad Gateway"
