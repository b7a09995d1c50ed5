"""A loopback OpenML server for the harvester's tests: OpenML's REST XML API on 127.0.0.1.

It answers the calls openml-python 0.15 makes for ``list_evaluations``, ``list_setups``,
``list_flows``, ``get_task``, ``get_dataset`` (description, features, qualities, and the
ARFF file of a dataset that has one), ``get_suite`` and ``get_flow``'s listing, in the XML
OpenML sends (modelled on the recorded replies under ``tests/files/mock_responses/`` of
openml-python), with OpenML's paging caps (10,000 evaluations, 1,000 setups a page) and its
412 error bodies. Faults: every Nth request a 503, a 412 or an HTTP status for one path, a
truncated reply, a slow server, or the server going away.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.sax.saxutils import escape

NS = 'xmlns:oml="http://openml.org/openml"'
EVALUATION_CAP = 10_000
SETUP_CAP = 1_000
#: A gateway's error page, as a proxy in front of OpenML sends it.
NGINX_503 = (
    "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
    "<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx</center>"
    "\r\n</body>\r\n</html>\r\n"
)
NGINX_404 = "<html>\r\n<head><title>404 Not Found</title></head>\r\n</html>\r\n"
TASK_TYPES = {1: "Supervised Classification", 2: "Supervised Regression", 3: "Learning Curve"}


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()  # OpenML's checksum


def _el(tag: str, value: Any) -> str:
    return f"<oml:{tag}>{escape(str(value))}</oml:{tag}>"


def error_xml(code: int, message: str) -> str:
    """OpenML's error body (sent with HTTP 412)."""
    return f"<oml:error {NS}>\n  {_el('code', code)}\n  {_el('message', message)}\n</oml:error>\n"


@dataclass
class Run:
    """One OpenML run: its setup, flow, task and per-function per-fold scores."""

    run_id: int
    task_id: int
    setup_id: int
    flow_id: int
    scores: dict[str, list[list[float]]]  # function -> [repeat][fold]


@dataclass
class Faults:
    """Injected faults; ``fail_every``: every Nth request answers 503 (HTML)."""

    fail_every: int = 0
    errors: dict[str, tuple[int, str]] = field(default_factory=dict)  # path prefix -> 412
    truncate: dict[str, int] = field(default_factory=dict)  # path prefix -> times left
    down_after: int | None = None  # after this many requests, every reply is a 503
    status: dict[str, int] = field(default_factory=dict)  # path prefix -> HTTP status (HTML)
    delay: float = 0.0  # seconds each reply waits (a slow server)


@dataclass
class OpenMLData:
    """What the server knows: datasets, tasks, suites, flows, setups and runs."""

    datasets: dict[int, dict[str, Any]] = field(default_factory=dict)
    tasks: dict[int, dict[str, Any]] = field(default_factory=dict)
    suites: dict[int, list[int]] = field(default_factory=dict)
    flows: dict[int, dict[str, Any]] = field(default_factory=dict)
    setups: dict[int, dict[str, Any]] = field(default_factory=dict)
    runs: list[Run] = field(default_factory=list)


def _filters(parts: list[str]) -> dict[str, str]:
    return {parts[i]: parts[i + 1] for i in range(0, len(parts) - 1, 2)}


def _ids(text: str | None) -> set[int] | None:
    return None if text is None else {int(x) for x in text.split(",")}


def _page(items: list[Any], f: dict[str, str], cap: int) -> list[Any]:
    offset = int(f.get("offset", 0))
    limit = min(int(f.get("limit", cap)), cap)
    return items[offset : offset + limit]


class Replies:
    """Builds the XML replies from :class:`OpenMLData`; ``None`` when nothing matches."""

    def __init__(self, data: OpenMLData) -> None:
        self.data = data
        self.base = "https://api.openml.org"  # the server's own address once it runs

    def answer(self, path: str) -> tuple[int, str]:
        parts = [p for p in path.split("?")[0].split("/") if p]
        if parts[:3] == ["data", "v1", "download"] and len(parts) == 5:
            return self.download(int(parts[3]))
        handlers = {
            ("evaluation", "list"): self.evaluations,
            ("setup", "list"): self.setups,
            ("flow", "list"): self.flow_list,
            ("user", "list"): self.users,
            ("data", "features"): self.features,
            ("data", "qualities"): self.qualities,
        }
        handler = handlers.get(tuple(parts[:2]))  # type: ignore[arg-type]
        if handler is not None:
            return handler(parts[2:])
        single = {"task": self.task, "data": self.dataset, "study": self.study}
        if len(parts) == 2 and parts[0] in single and parts[1].isdigit():
            return single[parts[0]](int(parts[1]))
        return 412, error_xml(100, "Function not valid")

    def evaluations(self, parts: list[str]) -> tuple[int, str]:
        f = _filters(parts)
        tasks, flows = _ids(f.get("task")), _ids(f.get("flow"))
        rows = [
            r
            for r in sorted(self.data.runs, key=lambda r: r.run_id)
            if f["function"] in r.scores
            and (tasks is None or r.task_id in tasks)
            and (flows is None or r.flow_id in flows)
        ]
        rows = _page(rows, f, EVALUATION_CAP)
        if not rows:
            return 412, error_xml(542, "No results")
        body = "".join(
            self._evaluation(r, f["function"], f.get("per_fold") == "true") for r in rows
        )
        return 200, f"<oml:evaluations {NS}>\n{body}</oml:evaluations>\n"

    def _evaluation(self, run: Run, function: str, per_fold: bool) -> str:
        task = self.data.tasks[run.task_id]
        folds = run.scores[function]
        flat = [v for repeat in folds for v in repeat]
        fields = [
            _el("run_id", run.run_id),
            _el("task_id", run.task_id),
            _el("setup_id", run.setup_id),
            _el("flow_id", run.flow_id),
            _el("flow_name", self.data.flows[run.flow_id]["full_name"]),
            _el("data_id", task["data_id"]),
            _el("data_name", self.data.datasets[task["data_id"]]["name"]),
            _el("function", function),
            _el("upload_time", "2014-10-06T23:38:13"),
            _el("uploader", 1),
        ]
        if per_fold and len(flat) > 1:
            fields.append(_el("values", json.dumps(folds)))
        else:
            fields.append(_el("value", round(sum(flat) / len(flat), 6)))
        return "  <oml:evaluation>\n    " + "\n    ".join(fields) + "\n  </oml:evaluation>\n"

    def users(self, parts: list[str]) -> tuple[int, str]:
        ids = sorted(_ids(_filters(parts).get("user_id")) or {1})
        body = "".join(
            f"  <oml:user>{_el('id', i)}{_el('username', 'MockUser')}</oml:user>\n" for i in ids
        )
        return 200, f"<oml:users {NS}>\n{body}</oml:users>\n"

    def setups(self, parts: list[str]) -> tuple[int, str]:
        f = _filters(parts)
        wanted = _ids(f.get("setup"))
        flow = f.get("flow")
        rows = [
            (sid, s)
            for sid, s in sorted(self.data.setups.items())
            if (wanted is None or sid in wanted) and (flow is None or s["flow_id"] == int(flow))
        ]
        rows = _page(rows, f, SETUP_CAP)
        if not rows:
            return 412, error_xml(674, "No results")
        return (
            200,
            f"<oml:setups {NS}>\n{''.join(self._setup(i, s) for i, s in rows)}</oml:setups>\n",
        )

    def _setup(self, setup_id: int, setup: dict[str, Any]) -> str:
        flow = self.data.flows[setup["flow_id"]]
        params = []
        for n, (name, value) in enumerate(setup["params"].items(), start=1):
            params.append(
                "    <oml:parameter>"
                + _el("id", setup_id * 100 + n)
                + _el("flow_id", setup["flow_id"])
                + _el("flow_name", flow.get("component", flow["full_name"]))
                + _el("full_name", f"{flow.get('component', flow['full_name'])}(1)_{name}")
                + _el("parameter_name", name)
                + _el("data_type", "")
                + _el("default_value", "null")
                + _el("value", json.dumps(value))
                + "</oml:parameter>\n"
            )
        head = _el("setup_id", setup_id) + _el("flow_id", setup["flow_id"])
        return f"  <oml:setup>{head}\n{''.join(params)}  </oml:setup>\n"

    def flow_list(self, parts: list[str]) -> tuple[int, str]:
        rows = _page(sorted(self.data.flows.items()), _filters(parts), EVALUATION_CAP)
        if not rows:
            return 412, error_xml(500, "No results")
        body = "".join(
            "  <oml:flow>"
            + _el("id", fid)
            + _el("full_name", f"{fl['full_name']}({fl['version']})")
            + _el("name", fl["full_name"])
            + _el("version", fl["version"])
            + _el("external_version", fl.get("external_version", "sklearn==1.3.2"))
            + _el("uploader", 1)
            + "</oml:flow>\n"
            for fid, fl in rows
        )
        return 200, f"<oml:flows {NS}>\n{body}</oml:flows>\n"

    def task(self, task_id: int) -> tuple[int, str]:
        task = self.data.tasks.get(task_id)
        if task is None:
            return 412, error_xml(151, "Unknown task")
        type_id = task["type_id"]
        data_name = self.data.datasets[task["data_id"]]["name"]
        measure = "predictive_accuracy" if type_id == 1 else "root_mean_squared_error"
        return 200, (
            f"<oml:task {NS}>\n{_el('task_id', task_id)}\n"
            f"<oml:task_name>Task {task_id}: {escape(data_name)} ({TASK_TYPES[type_id]})"
            f"</oml:task_name>\n{_el('task_type_id', type_id)}\n"
            f"{_el('task_type', TASK_TYPES[type_id])}\n"
            '<oml:input name="source_data"><oml:data_set>'
            f"{_el('data_set_id', task['data_id'])}{_el('target_feature', task['target'])}"
            "</oml:data_set></oml:input>\n"
            '<oml:input name="estimation_procedure"><oml:estimation_procedure>'
            f"{_el('id', 1)}{_el('type', 'crossvalidation')}"
            f"{_el('data_splits_url', f'https://openml.org/api_splits/get/{task_id}/s.arff')}"
            f'<oml:parameter name="number_repeats">{task.get("repeats", 1)}</oml:parameter>'
            f'<oml:parameter name="number_folds">{task.get("folds", 10)}</oml:parameter>'
            '<oml:parameter name="percentage"></oml:parameter>'
            "</oml:estimation_procedure></oml:input>\n"
            '<oml:input name="evaluation_measures"><oml:evaluation_measures>'
            f"{_el('evaluation_measure', measure)}</oml:evaluation_measures></oml:input>\n"
            "<oml:tag>under1m</oml:tag>\n</oml:task>\n"
        )

    def dataset(self, data_id: int) -> tuple[int, str]:
        ds = self.data.datasets.get(data_id)
        if ds is None:
            return 412, error_xml(111, "Unknown dataset")
        fields = [
            _el("id", data_id),
            _el("name", ds["name"]),
            _el("version", 1),
            _el("description", f"The {ds['name']} data."),
            _el("format", "ARFF"),
            _el("upload_date", "2014-04-06T23:23:39"),
            _el("licence", "Public"),
            _el("url", f"{self.base}/data/v1/download/{data_id}/{ds['name']}.arff"),
            _el("file_id", data_id),
            _el("default_target_attribute", ds["features"][-1][0]),
            _el("visibility", "public"),
            _el("status", "active"),
            _el("md5_checksum", _md5(ds.get("arff", ""))),
        ]
        return 200, f"<oml:data_set_description {NS}>\n  " + "\n  ".join(fields) + (
            "\n</oml:data_set_description>\n"
        )

    def download(self, data_id: int) -> tuple[int, str]:
        """The dataset's ARFF file (as OpenML's data/v1/download serves it)."""
        arff = self.data.datasets.get(data_id, {}).get("arff")
        return (404, NGINX_404) if arff is None else (200, arff)

    def features(self, parts: list[str]) -> tuple[int, str]:
        ds = self.data.datasets.get(int(parts[0]))
        if ds is None:
            return 412, error_xml(271, "Unknown dataset")
        out = []
        for i, (name, kind, values) in enumerate(ds["features"]):
            nominal = "".join(_el("nominal_value", v) for v in values or ())
            out.append(
                f"  <oml:feature>{_el('index', i)}{_el('name', name)}{_el('data_type', kind)}"
                f"{nominal}{_el('is_target', str(i == len(ds['features']) - 1).lower())}"
                f"{_el('is_ignore', 'false')}{_el('is_row_identifier', 'false')}"
                f"{_el('number_of_missing_values', 0)}</oml:feature>\n"
            )
        return 200, f"<oml:data_features {NS}>\n{''.join(out)}</oml:data_features>\n"

    def qualities(self, parts: list[str]) -> tuple[int, str]:
        ds = self.data.datasets.get(int(parts[0]))
        if ds is None or ds.get("qualities") is None:
            return 412, error_xml(362, "No qualities found")
        body = "".join(
            f"  <oml:quality>{_el('name', k)}{_el('value', 'null' if v is None else v)}"
            "</oml:quality>\n"
            for k, v in ds["qualities"].items()
        )
        return 200, f"<oml:data_qualities {NS}>\n{body}</oml:data_qualities>\n"

    def study(self, study_id: int) -> tuple[int, str]:
        tasks = self.data.suites.get(study_id)
        if tasks is None:
            return 412, error_xml(601, "Unknown study")
        ids = "".join(_el("task_id", t) for t in tasks)
        return 200, (
            f"<oml:study {NS}>\n{_el('id', study_id)}{_el('main_entity_type', 'task')}"
            f"{_el('name', f'suite {study_id}')}{_el('description', 'A benchmark suite.')}"
            f"{_el('visibility', 'public')}{_el('status', 'active')}"
            f"{_el('creation_date', '2019-02-21T17:43:02')}{_el('creator', 1)}"
            f"<oml:tasks>{ids}</oml:tasks>\n</oml:study>\n"
        )


class OpenMLServer:
    """The running server: ``url`` for ``openml.config.server``, ``requests`` it answered."""

    def __init__(self, data: OpenMLData) -> None:
        self.data = data
        self.faults = Faults()
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self._replies = Replies(data)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        address = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self.url = f"{address}/api/v1/xml"
        self._replies.base = address
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def _reply(self, path: str) -> tuple[int, str, str]:
        """(status, content type, body) for a request path, faults applied."""
        with self._lock:
            self.requests.append(path)
            n = len(self.requests)
            f = self.faults
        api = path.split("/api/v1/xml/", 1)[-1]
        time.sleep(f.delay)
        for prefix, status in f.status.items():
            if api.startswith(prefix):
                return status, "text/html", NGINX_404 if status == 404 else NGINX_503
        if (f.down_after is not None and n > f.down_after) or (
            f.fail_every and n % f.fail_every == 0
        ):
            return 503, "text/html", NGINX_503
        for prefix, (code, message) in f.errors.items():
            if api.startswith(prefix):
                return 412, "text/xml", error_xml(code, message)
        status, body = self._replies.answer(api)
        for prefix, left in f.truncate.items():
            if api.startswith(prefix) and left > 0:
                f.truncate[prefix] = left - 1
                body = body[: len(body) // 2]
        return status, "text/xml", body

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, kind, body = server._reply(self.path)
                data = gzip.compress(body.encode("utf-8"))  # OpenML gzips its replies
                self.send_response(status)
                self.send_header("Content-Type", f"{kind}; charset=utf-8")
                self.send_header("Content-Encoding", "gzip")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def count(self, prefix: str) -> int:
        """How many requests began with ``prefix`` (after ``/api/v1/xml/``)."""
        return sum(p.split("/api/v1/xml/", 1)[-1].startswith(prefix) for p in self.requests)

    def start(self) -> OpenMLServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@contextmanager
def serve(data: OpenMLData) -> Iterator[OpenMLServer]:
    """Run an :class:`OpenMLServer` for ``data`` for the duration of the block."""
    server = OpenMLServer(data).start()
    try:
        yield server
    finally:
        server.stop()
