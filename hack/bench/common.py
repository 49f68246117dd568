# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every benchmark shares: timing subprocesses, medians, the machine, the emulator, the bench virtualenv."""

import json
import os
import platform
import re
import resource
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
COLLECTION = os.path.dirname(os.path.dirname(BENCH_DIR))
BIN = os.path.dirname(sys.executable)


class BenchError(RuntimeError):
    """A benchmark could not measure what it should (a failed run, a wrong answer)."""


class NotAvailable(RuntimeError):
    """A contender cannot run on this machine; the report says why instead of a number."""


def build_dir():
    """BUILD: the folder holding ansible_collections/iotops/dps_tls when the bench runs from the copy `make`
    builds, else the checkout's .build (never a folder above the checkout)."""
    namespace_dir = os.path.dirname(COLLECTION)
    if os.path.basename(os.path.dirname(namespace_dir)) == "ansible_collections":
        return os.path.dirname(os.path.dirname(namespace_dir))
    return os.path.join(COLLECTION, ".build")


def log(message):
    print("bench: %s" % message, file=sys.stderr, flush=True)


class Timed(float):
    """Wall seconds, with the CPU seconds (user + system) of the command and everything it waited for."""

    cpu = 0.0


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(cmd, env=None, cwd=None, timeout=900, check=True):
    """Runs cmd; returns (Timed seconds, CompletedProcess). A failure raises BenchError with the output's tail."""
    cpu = _children_cpu()
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, timeout=timeout, capture_output=True, text=True, check=False)
    elapsed = Timed(time.perf_counter() - started)
    elapsed.cpu = _children_cpu() - cpu
    if check and proc.returncode != 0:
        tail = (proc.stdout + proc.stderr)[-3000:]
        raise BenchError("%s exited %d:\n%s" % (" ".join(cmd[:3]), proc.returncode, tail))
    return elapsed, proc


def median(samples):
    return statistics.median(samples) if samples else None


def measure(label, runs, once, warmup=True):
    """Calls once(index) warm-up + runs times; once returns seconds (and may return (seconds, extra)).
    Returns {"median", "samples", "extra": [...]}; the warm-up is not counted."""
    samples, cpu, extras = [], [], []
    for index in range(-1 if warmup else 0, runs):
        value = once(index)
        seconds, extra = value if isinstance(value, tuple) else (value, None)
        if index >= 0:
            samples.append(float(seconds))
            cpu.append(getattr(seconds, "cpu", 0.0))
            extras.append(extra)
    text = ", ".join("%.2f" % s for s in samples)
    log("%s: median %.2fs (cpu %.2fs) of %s" % (label, statistics.median(samples), statistics.median(cpu), text))
    return {"median": median(samples), "samples": samples, "cpu": median(cpu), "extra": extras}


def ansible_env(extra=None):
    """Environment for ansible runs of this collection: its copy on the collections path, quiet output."""
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": os.path.dirname(os.path.dirname(os.path.dirname(COLLECTION))),
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_HOST_KEY_CHECKING": "0",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        "PATH": BIN + os.pathsep + env.get("PATH", ""),
    })
    env.update(extra or {})
    return env


def recap_changed(output):
    """Sum of changed= and failed= over the PLAY RECAP lines of ansible-playbook output."""
    changed = sum(int(n) for n in re.findall(r"\bchanged=(\d+)", output))
    failed = sum(int(n) for n in re.findall(r"\bfailed=(\d+)", output))
    return changed, failed


# ------------------------------------------------------------------------------------------------ the machine

def _first(path, pattern):
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                match = re.match(pattern, line)
                if match:
                    return match.group(1).strip()
    except OSError:
        pass
    return "unknown"


def machine():
    memory = _first("/proc/meminfo", r"MemTotal:\s+(\d+)")
    openssl = subprocess.run(["openssl", "version"], capture_output=True, text=True, check=False).stdout.strip()
    core = subprocess.run([os.path.join(BIN, "ansible"), "--version"], capture_output=True, text=True,
                          check=False).stdout.splitlines()
    return {
        "load": "%.2f %.2f %.2f" % os.getloadavg(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpus": os.cpu_count(),
        "cpu_model": _first("/proc/cpuinfo", r"model name\s*:\s*(.*)"),
        "memory": "%.1f GiB" % (int(memory) / 1024 / 1024) if memory.isdigit() else memory,
        "os": _first("/etc/os-release", r'PRETTY_NAME="?([^"]*)'),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "ansible_core": core[0] if core else "unknown",
        "python_ssl": ssl.OPENSSL_VERSION,
        "openssl": openssl,
    }


# ------------------------------------------------------------------------------------------------ the emulator

class Emulator:
    """The collection's DPS emulator in a private state dir, on loopback, stopped by stop() (or the bench's exit)."""

    def __init__(self, provisioning_delay, retry_after=1):
        self.work = tempfile.mkdtemp(prefix="bench-dpsemu.")
        self.state_dir = os.path.join(self.work, "state")
        self.log_path = os.path.join(self.work, "emulator.log")
        env = dict(os.environ, PYTHONPATH=os.path.join(COLLECTION, "emulator"))
        with open(self.log_path, "w", encoding="utf-8") as log_file:
            self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
                [sys.executable, "-m", "dpsemu", "serve", "--state-dir", self.state_dir, "--device-port", "0",
                 "--provisioning-delay", str(provisioning_delay), "--retry-after", str(retry_after)],
                env=env, stdout=log_file, stderr=subprocess.STDOUT)
        path = os.path.join(self.state_dir, "endpoints.json")
        deadline = time.monotonic() + 60
        while not os.path.exists(path):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise BenchError("the emulator did not start; its log is in %s" % self.log_path)
            time.sleep(0.1)
        with open(path, encoding="utf-8") as handle:
            self.endpoints = json.load(handle)
        self.url = self.endpoints["resource_manager_endpoint"]
        self.ca_file = self.endpoints["ca_file"]
        self._context = ssl.create_default_context(cafile=self.ca_file)

    def env(self):
        """What `dpsemu env` exports: the Azure variables the modules and the SDK read."""
        e = self.endpoints
        return {
            "AZURE_SUBSCRIPTION_ID": e["subscription_id"], "AZURE_TENANT_ID": e["tenant_id"],
            "AZURE_CLIENT_ID": e["client_id"], "AZURE_CLIENT_SECRET": e["client_secret"],
            "AZURE_AUTHORITY_HOST": self.url, "AZURE_RESOURCE_MANAGER_ENDPOINT": self.url,
            "DPSEMU_URL": self.url, "DPSEMU_CA_FILE": self.ca_file, "DPSEMU_STATE_DIR": self.state_dir,
        }

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, context=self._context, timeout=30) as response:
            text = response.read().decode("utf-8")
        return json.loads(text) if text else None

    def clear_requests(self):
        self.call("DELETE", "/_emulator/requests")

    def requests(self):
        return self.call("GET", "/_emulator/requests")

    def configure(self, **settings):
        self.call("POST", "/_emulator/config", settings)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.work, ignore_errors=True)


def request_summary(entries):
    """Counts of a request log: total, token, metadata and ARM calls, and the ARM calls by kind."""
    kinds = {}
    token = metadata = 0
    for entry in entries:
        path = entry["path"]
        if "/oauth2/" in path or path.startswith("/msi/") or "/.well-known/" in path or "/discovery/" in path:
            token += 1
            continue
        if path.startswith("/metadata/"):
            metadata += 1
            continue
        kind = "%s operationresults" % entry["method"] if "/operationresults/" in path else entry["method"]
        kinds[kind] = kinds.get(kind, 0) + 1
    arm = sum(kinds.values())
    return {"total": len(entries), "token": token, "metadata": metadata, "arm": arm, "arm_kinds": kinds}


# ------------------------------------------------------------------------------------------------ bench venv

# The shim's .pth line: active only where the bench asks for it (DPSBENCH_AZCLOUD_SHIM=1).
SHIM_PTH = "import dpsbench_azcloud_shim\n"


def bench_venv(path):
    """The bench virtualenv (ansible with azure.azcollection and its requirements, sslyze), built once.
    Returns {"python", "problems": {package: why}}; a package that cannot be installed is named, not fatal."""
    python = os.path.join(path, "bin", "python")
    stamp = os.path.join(path, ".bench-ready")
    problems_file = os.path.join(path, ".bench-problems.json")
    if not os.path.exists(stamp):
        log("building the bench virtualenv in %s (once; a few minutes)" % path)
        subprocess.run([sys.executable, "-m", "venv", "--clear", path], check=True)
        problems = {}
        pip = [python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        for what, args in (("ansible", ["ansible"]), ("azure.azcollection requirements", None),
                           ("sslyze", ["sslyze"])):
            if args is None:
                requirements = azcollection_requirements(python)
                if not requirements:
                    problems[what] = "the ansible package ships no azure.azcollection requirements file"
                    continue
                args = ["-r", requirements]
            proc = subprocess.run(pip + args, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                problems[what] = "pip install %s failed: %s" % (" ".join(args), proc.stderr.strip()[-400:])
                log("could not install %s" % what)
        with open(problems_file, "w", encoding="utf-8") as handle:
            json.dump(problems, handle)
        if not problems:
            # a partial install is tried again next time
            with open(stamp, "w", encoding="utf-8") as handle:
                handle.write("ready\n")
    install_shim(python)
    with open(problems_file, encoding="utf-8") as handle:
        problems = json.load(handle)
    azure = "; ".join(problems[k] for k in ("ansible", "azure.azcollection requirements") if k in problems)
    return {"python": python, "bin": os.path.dirname(python), "problems": problems,
            "azure_missing": azure or None, "sslyze_missing": problems.get("sslyze")}


def site_packages(python):
    proc = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True)
    return proc.stdout.strip()


def azcollection_requirements(python):
    path = os.path.join(site_packages(python), "ansible_collections", "azure", "azcollection", "requirements.txt")
    return path if os.path.exists(path) else None


def install_shim(python):
    """Puts hack/bench/azcloud_shim.py into the bench virtualenv (see its docstring for why)."""
    target = site_packages(python)
    shutil.copyfile(os.path.join(BENCH_DIR, "azcloud_shim.py"), os.path.join(target, "dpsbench_azcloud_shim.py"))
    with open(os.path.join(target, "dpsbench_azcloud_shim.pth"), "w", encoding="utf-8") as handle:
        handle.write(SHIM_PTH)
