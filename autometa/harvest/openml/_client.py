"""Calling openml-python: its settings for one harvest, retries, and OpenML's errors as
one-line :class:`~autometa.exceptions.HarvestError` messages."""

from __future__ import annotations

import socket
import tempfile
import time
import xml.parsers.expat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from autometa.exceptions import HarvestError

T = TypeVar("T")
#: OpenML's "database connection error: please retry" code.
RETRY_CODE = 107
#: Seconds a silent connection may stay open before the request is retried.
SOCKET_TIMEOUT = 120.0


class NoResult(Exception):
    """OpenML answered "no results" (an empty listing)."""


@dataclass
class Client:
    """Retries ``retries`` times with exponential backoff (``backoff`` x 2^n, at most 60 s)
    on timeouts, dropped connections, 5xx replies (an HTML error page included), unreadable
    (cut) XML and OpenML's code 107; other OpenML errors become HarvestError at once."""

    server: str
    retries: int = 5
    backoff: float = 2.0
    cache_root: Path | None = None
    retried: int = 0

    def call(
        self,
        what: str,
        fn: Callable[..., T],
        *args: Any,
        empty_codes: tuple[int, ...] = (),
        **kwargs: Any,
    ) -> T:
        """``fn(*args, **kwargs)`` with retries; ``what`` names the call in messages.

        :class:`NoResult` for OpenML's "no results" and for the codes of ``empty_codes``."""
        import openml.exceptions as oe
        import requests

        for attempt in range(self.retries + 1):
            try:
                return fn(*args, **kwargs)
            except oe.OpenMLServerNoResult as exc:
                raise NoResult(str(exc)) from None
            except oe.OpenMLServerException as exc:
                if exc.code in empty_codes:
                    raise NoResult(str(exc)) from None
                if exc.code != RETRY_CODE:
                    raise HarvestError(
                        f"{what}: OpenML error {exc.code}: {_message(exc)}"
                    ) from None
                reason = f"OpenML error {exc.code} (please retry)"
            except (oe.OpenMLServerError, oe.OpenMLHashException) as exc:
                reason = str(exc).splitlines()[0][:200]
            except xml.parsers.expat.ExpatError as exc:
                reason = f"unreadable XML reply ({exc})"
                self._fresh_cache()  # openml-python may have cached the cut reply
            except KeyError as exc:  # openml-python reading an error page that is not OpenML's
                reason = f"a reply that is not OpenML XML (no {exc})"
            except (requests.exceptions.RequestException, OSError) as exc:
                reason = f"{type(exc).__name__}: {str(exc)[:200]}"
            if attempt == self.retries:
                raise HarvestError(
                    f"{what}: OpenML at {self.server} failed {attempt + 1} times; last: {reason}"
                )
            self.retried += 1
            time.sleep(min(self.backoff * 2**attempt, 60.0))
        raise AssertionError("unreachable")

    def _fresh_cache(self) -> None:
        import openml

        if self.cache_root is not None:
            openml.config.set_root_cache_directory(tempfile.mkdtemp(dir=self.cache_root))


def _message(exc: Any) -> str:
    text = str(getattr(exc, "message", None) or exc)
    return text.removesuffix(" - None").splitlines()[0]


@contextmanager
def openml_settings(server: str | None, apikey: str | None) -> Iterator[Path]:
    """openml-python pointed at ``server`` (else its configured one) with ``apikey``, a
    temporary cache and no retries of its own (the :class:`Client` retries, faster);
    every setting is restored on exit. Yields the temporary cache root."""
    import openml

    config = openml.config
    saved = config.get_config_as_dict()
    previous_timeout = socket.getdefaulttimeout()
    with tempfile.TemporaryDirectory(prefix="autometa-openml-") as tmp:
        try:
            if server:
                config.server = server.rstrip("/")
            if apikey:
                config.apikey = apikey
            config.set_root_cache_directory(tmp)
            config.connection_n_retries = 1
            socket.setdefaulttimeout(SOCKET_TIMEOUT)
            yield Path(tmp)
        finally:
            socket.setdefaulttimeout(previous_timeout)
            config.server = saved["server"]
            config.apikey = saved["apikey"]
            config.connection_n_retries = saved["connection_n_retries"]
            config.set_root_cache_directory(saved["cachedir"])


__all__ = ["Client", "NoResult", "openml_settings"]
