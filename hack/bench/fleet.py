# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bench (e): a fleet reached over real SSH. Each device is a real `sshd` on an address of its own in
127.2.0.0/16 (all of 127/8 is loopback on Linux, so no interface is configured), serving the simulated device's
root filesystem through the roles' `root` variables. Ansible reaches it as a user would: OpenSSH, pipelining,
ControlPersist. Measured for each fleet size: the floor (one ping per host), root_ca_trust first run and rerun, the
naive role's first run, and the readiness audit; with Debian's acct installed, the CPU of each kind of process
around the floor, the ca_trust task alone and the audit; and the wall time of each task of the floor, the trust
rerun and the audit."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from common import BENCH_DIR, BIN, COLLECTION, BenchError, ansible_env, log, recap_changed, run
from fleet_report import FLOOR, FLOOR_AGAIN, MITOGEN
from trust import ROOTS_DIR, check_trusted

SSHD = "/usr/sbin/sshd"
FORKS = 25
# Every sshd is started at most this long before the bench gives up on it.
START_SECONDS = 120
# CPU by kind of process, from the kernel's process accounting (Debian's acct): the command names each kind runs as.
PROCESS_KINDS = (("device's Python", ("python",)), ("ssh client", ("ssh",)),
                 ("controller", ("ansible-playboo",)), ("sshd and login shell", ("sshd", "bash", "sh", "sleep")))
AUDIT = os.path.join(COLLECTION, "playbooks", "audit_readiness.yml")
SIMULATED_DEVICES = os.path.join(COLLECTION, "hack", "simulated_devices.py")
# The bench's callback that writes each task's wall time (hack/bench/callbacks/task_times.py).
CALLBACKS = os.path.join(BENCH_DIR, "callbacks")

SSHD_CONFIG = """\
# One sshd per simulated device; ListenAddress and PidFile come on the command line.
HostKey {work}/host_key
AuthorizedKeysFile {work}/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxStartups 200:30:400
MaxSessions 50
LogLevel ERROR
Subsystem sftp internal-sftp
"""


def address(number):
    """device-NNN's own loopback address: 127.2.x.y, never .0 or .255."""
    return "127.2.%d.%d" % (number // 250, number % 250 + 1)


class Fleet:
    """N sshd processes and the keys and inventory to reach them; stop() ends every one of them."""

    def __init__(self, work, count):
        self.work = work
        self.count = count
        self.processes = []
        self.devices = os.path.join(work, "devices")
        self.inventory = os.path.join(work, "ssh-inventory.yml")

    def keys(self):
        for name in ("host_key", "client_key"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(self.work, name)],
                           check=True)
        shutil.copy(os.path.join(self.work, "client_key.pub"), os.path.join(self.work, "authorized_keys"))
        with open(os.path.join(self.work, "sshd_config"), "w", encoding="utf-8") as handle:
            handle.write(SSHD_CONFIG.format(work=self.work))
        os.makedirs("/run/sshd", exist_ok=True)

    def make_devices(self, missing, weak=0):
        run([sys.executable, SIMULATED_DEVICES, "--count", str(self.count), "--missing-roots", str(missing),
             "--weak-tls", str(weak), "--out", self.devices])
        self._write_inventory()

    def _write_inventory(self):
        lines = ["# The SSH fleet: every device is an sshd of its own on its own loopback address.",
                 "ssh_devices:", "  vars:",
                 "    ansible_user: root",
                 "    ansible_ssh_private_key_file: %s/client_key" % self.work,
                 "    ansible_python_interpreter: %s" % sys.executable,
                 "  hosts:"]
        for number in range(1, self.count + 1):
            name = "device-%03d" % number
            root = os.path.join(self.devices, name)
            lines += ["    %s:" % name, "      ansible_host: %s" % address(number),
                      "      root_ca_trust_root: %s" % root]
        with open(self.inventory, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")

    def start(self):
        config = os.path.join(self.work, "sshd_config")
        for number in range(1, self.count + 1):
            # -D keeps each in the foreground of its own session, so stop() can end it and all it forked.
            self.processes.append(subprocess.Popen(  # pylint: disable=consider-using-with
                [SSHD, "-D", "-f", config, "-o", "ListenAddress=%s:22" % address(number), "-o", "PidFile=none"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        deadline = time.monotonic() + START_SECONDS
        for number in range(1, self.count + 1):
            while not _listening(address(number)):
                if time.monotonic() > deadline or self.processes[number - 1].poll() is not None:
                    raise BenchError("sshd for device-%03d did not start listening on %s:22"
                                     % (number, address(number)))
                time.sleep(0.05)
        log("(e) %d sshd listening" % self.count)

    def stop(self):
        for proc in self.processes:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for proc in self.processes:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        self.processes = []


def _listening(host):
    import socket  # pylint: disable=import-outside-toplevel
    try:
        with socket.create_connection((host, 22), timeout=0.5):
            return True
    except OSError:
        return False


class Runner:
    """ansible-playbook on the fleet; a fresh ControlPath folder per run, and its masters ended after it, so
    every measured run pays its own SSH connections as a user's run would."""

    def __init__(self, fleet, work):
        self.fleet = fleet
        self.work = work
        self.runs = 0

    def play(self, label, playbook, extra=(), expect_changed=None, strategy=None, accounted=None, tasks=None):
        """Runs the playbook; with accounted={}, also fills it with the CPU seconds of each kind of process, and
        with tasks={}, with the wall seconds of each task."""
        self.runs += 1
        control = os.path.join(self.work, "cp%d" % self.runs)
        os.makedirs(control)
        times = os.path.join(self.work, "tasks%d.json" % self.runs)
        timed = {"ANSIBLE_CALLBACK_PLUGINS": CALLBACKS, "ANSIBLE_CALLBACKS_ENABLED": "task_times",
                 "TASK_TIMES_FILE": times} if tasks is not None else {}
        env = ansible_env(dict(strategy or {}, **timed, **{
            "ANSIBLE_FORKS": str(FORKS),
            "ANSIBLE_PIPELINING": "1",
            "ANSIBLE_SSH_CONTROL_PATH_DIR": control,
            "ANSIBLE_SSH_ARGS": "-C -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=/dev/null "
                                "-o StrictHostKeyChecking=no -o LogLevel=ERROR",
            "ANSIBLE_TIMEOUT": "30",
        }))
        argv = [os.path.join(BIN, "ansible-playbook"), "-i", self.fleet.inventory, playbook] + list(extra)
        accounting = _start_accounting(self.work, self.runs) if accounted is not None else None
        try:
            seconds, proc = run(argv, env=env, timeout=7200)
        finally:
            _end_masters(control)
            if accounting:
                accounted.update(_stop_accounting(accounting))
        changed, failed = recap_changed(proc.stdout)
        if failed or "unreachable=0" not in proc.stdout or (
                expect_changed is not None and changed != expect_changed):
            raise BenchError("(e) %s on %d devices: %d changed, %d failed:\n%s"
                             % (label, self.fleet.count, changed, failed, proc.stdout[-2000:]))
        if tasks is not None:
            with open(times, encoding="utf-8") as handle:
                tasks.update(json.load(handle))
        log("(e) %s on %d devices: %.2fs" % (label, self.fleet.count, float(seconds)))
        return seconds


def _end_masters(control):
    for entry in os.listdir(control):
        subprocess.run(["ssh", "-o", "ControlPath=%s" % os.path.join(control, entry), "-O", "exit", "x"],
                       capture_output=True, check=False, timeout=10)
    shutil.rmtree(control, ignore_errors=True)


def _start_accounting(work, number):
    """Turns the kernel's process accounting on into a file of this run's; None where acct is not installed or
    the kernel has no process accounting."""
    if not (shutil.which("accton") and shutil.which("dump-acct")):
        return None
    path = os.path.join(work, "run%d.pacct" % number)
    open(path, "w", encoding="utf-8").close()  # pylint: disable=consider-using-with
    if subprocess.run(["accton", path], capture_output=True, check=False, timeout=10).returncode != 0:
        return None
    return path


def _stop_accounting(path):
    """Turns accounting off; the CPU seconds (user + system) of every process that ended, by kind."""
    subprocess.run(["accton", "off"], capture_output=True, check=False, timeout=10)
    dump = subprocess.run(["dump-acct", path], capture_output=True, text=True, check=True, timeout=60).stdout
    kinds = {name: 0.0 for name, _commands in PROCESS_KINDS}
    kinds["other"] = 0.0
    for line in dump.splitlines():
        fields = [field.strip() for field in line.split("|")]
        # command | version | user time | system time | ...: times in clock ticks of 1/100 s
        seconds = (float(fields[2]) + float(fields[3])) / 100
        kind = next((name for name, commands in PROCESS_KINDS if fields[0] in commands), "other")
        kinds[kind] += seconds
    return kinds


def bench(_venv, args):
    if not os.path.exists(SSHD):
        return {"not_available": "no %s (apt-get install openssh-server)" % SSHD}
    results = {"forks": FORKS, "sizes": {}}
    mitogen = mitogen_strategies() if args.mitogen else None
    if args.mitogen and not mitogen:
        raise BenchError("--mitogen: the mitogen package is not installed in this virtualenv")
    for count in args.fleet_sizes:
        work = tempfile.mkdtemp(prefix="bench-fleet.", dir="/tmp")
        fleet = Fleet(work, count)
        try:
            fleet.keys()
            naive = args.naive_up_to is None or count <= args.naive_up_to
            with_mitogen = mitogen if args.mitogen_up_to is None or count <= args.mitogen_up_to else None
            results["sizes"][str(count)] = _bench_size(fleet, work, count, naive, with_mitogen)
        finally:
            fleet.stop()
            shutil.rmtree(work, ignore_errors=True)
    return results


def _bench_size(fleet, work, count, naive=True, mitogen=None):
    runner = Runner(fleet, work)
    fleet.make_devices(missing=count)
    fleet.start()
    ping = os.path.join(BENCH_DIR, "ping.yml")
    runner.play("warm-up ping", ping)
    cpu = {FLOOR: {}, "ca_trust task alone, rerun": {}, "readiness audit": {}}
    tasks = {FLOOR: {}, "root_ca_trust rerun": {}, "readiness audit": {}}
    measured = {FLOOR: runner.play("ping", ping, expect_changed=0, accounted=cpu[FLOOR], tasks=tasks[FLOOR])}
    trust = os.path.join(BENCH_DIR, "trust_role.yml")
    measured["root_ca_trust first run"] = runner.play("root_ca_trust first run", trust)
    check_trusted(fleet.devices, count)
    measured["root_ca_trust rerun"] = runner.play("root_ca_trust rerun", trust, expect_changed=0,
                                                  tasks=tasks["root_ca_trust rerun"])
    measured["ca_trust task alone, rerun"] = runner.play(
        "ca_trust task alone, rerun", os.path.join(BENCH_DIR, "trust_task.yml"), expect_changed=0,
        accounted=cpu["ca_trust task alone, rerun"])

    if naive:
        fleet.make_devices(missing=count)
        measured["naive role first run"] = runner.play(
            "naive role first run", os.path.join(BENCH_DIR, "naive_trust.yml"),
            extra=["-e", "naive_root_trust_roots_dir=%s" % ROOTS_DIR])
        check_trusted(fleet.devices, count)

    missing, weak = count // 2, count // 10
    fleet.make_devices(missing=missing, weak=weak)
    report_dir = os.path.join(work, "report")
    audit_args = ["-e", "readiness_report_dir=%s" % report_dir, "-e", "readiness_min_ratio=0"]
    measured["readiness audit"] = runner.play("readiness audit", AUDIT, extra=audit_args,
                                              accounted=cpu["readiness audit"], tasks=tasks["readiness audit"])

    if mitogen:
        # The same runs with Mitogen's linear strategy, an option a user may turn on; the fleet is as it was left.
        strategy = {"ANSIBLE_STRATEGY_PLUGINS": mitogen, "ANSIBLE_STRATEGY": "mitogen_linear"}
        measured[MITOGEN % "readiness audit"] = runner.play(
            MITOGEN % "readiness audit", AUDIT, extra=audit_args, strategy=strategy)
        measured[MITOGEN % FLOOR] = runner.play(MITOGEN % "ping", ping, expect_changed=0, strategy=strategy)
        runner.play(MITOGEN % "root_ca_trust first run", trust, strategy=strategy)
        measured[MITOGEN % "root_ca_trust rerun"] = runner.play(
            MITOGEN % "root_ca_trust rerun", trust, expect_changed=0, strategy=strategy)
    # The floor once more, after everything else: a machine that got slower during the size's runs shows here.
    measured[FLOOR_AGAIN] = runner.play("ping again", ping, expect_changed=0)
    results = {name: float(seconds) for name, seconds in measured.items()}
    if all(cpu.values()):
        results["cpu"] = cpu
    results["tasks"] = tasks
    return results


def mitogen_strategies():
    """The folder of Mitogen's strategy plugins when the mitogen package is installed, else None."""
    try:
        import ansible_mitogen  # pylint: disable=import-outside-toplevel
    except ImportError:
        return None
    return os.path.join(os.path.dirname(ansible_mitogen.__file__), "plugins", "strategy")
