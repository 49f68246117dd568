# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check the Azure Pipelines templates: they parse, every variant renders, their scripts pass bash -n and
shellcheck, the steps come in the documented order, and everything they name exists in the collection.

Usage: python check_templates.py COLLECTION_ROOT PASSING_REPORT_DIR FAILING_REPORT_DIR
"""

from __future__ import annotations

import itertools
import json
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

STEPS_TEMPLATE = "extensions/azure_pipelines/dps-tls-steps.yml"
EXAMPLE = "extensions/azure_pipelines/azure-pipelines.yml"
STAGES_TEMPLATE = "extensions/azure_pipelines/dps-tls-stages.yml"
EXPECTED_ORDER = [
    "Python ${{ parameters.pythonVersion }}",
    "Install Ansible and iotops.dps_tls",
    "Authenticate to Azure",
    "Audit TLS readiness",
    "Publish the readiness report",
    "Show the readiness summary",
    "Gate on readiness",
    "Provision the DPS instance",
    "Install the DPS roots on the devices",
]
REPORT_DIR = "$(Common.TestResultsDirectory)/dps-tls-readiness"
EXPRESSION = re.compile(r"\$\{\{\s*(parameters\.\w+)\s*\}\}")
MACRO = re.compile(r"\$\((\w+(?:\.\w+)*)\)")
COLLECTION_NAME = re.compile(r"\biotops\.dps_tls\.(\w+)")
COLLECTION_PATH = re.compile(r"ansible_collections/iotops/dps_tls/([\w./-]+)")

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def render(root, template, params):
    """The template's steps for these parameter values, expanded as Azure Pipelines does at compile time, with the
    templates it includes put in place (pipeline_expressions.py, shipped next to the templates)."""
    sys.path.insert(0, str(root / "extensions/azure_pipelines"))
    import check_pipeline_schema  # pylint: disable=import-outside-toplevel
    from pipeline_expressions import expand  # pylint: disable=import-outside-toplevel
    path = root / template
    load = check_pipeline_schema.template_loader(path.parent, {"self": root, "dps_tls": root})
    return expand(check_pipeline_schema.read_yaml(path), params, load)


def substitute(text, params):
    """Parameter expressions in a script of the example, with the example's parameter values."""
    return EXPRESSION.sub(lambda match: str(params[match.group(1).split(".")[-1]]).lower(), text)


def shell_checks(script, where):
    """bash -n and shellcheck on a script, with Azure macros replaced by plain paths."""
    text = MACRO.sub(lambda match: "/agent/" + match.group(1).replace(".", "_"), script)
    result = subprocess.run(["bash", "-n"], input=text, text=True, capture_output=True, check=False)
    check(result.returncode == 0, f"{where}: bash -n: {result.stderr.strip()}")
    result = subprocess.run(["shellcheck", "-s", "bash", "-"], input=text, text=True, capture_output=True,
                            check=False)
    check(result.returncode == 0, f"{where}: shellcheck:\n{result.stdout}")


def scripts_of(step):
    if "bash" in step:
        yield step["bash"]
    if step.get("task", "").startswith("AzureCLI@") and "inlineScript" in step.get("inputs", {}):
        yield step["inputs"]["inlineScript"]


def names_exist(text, root, where):
    """Every collection playbook, module, callback or file the text names must exist."""
    for name in COLLECTION_NAME.findall(text):
        candidates = [f"playbooks/{name}.yml", f"plugins/modules/{name}.py", f"plugins/callback/{name}.py"]
        check(any((root / path).is_file() for path in candidates),
              f"iotops.dps_tls.{name} (in {where}) is neither a playbook, a module nor a callback of the collection")
    for path in COLLECTION_PATH.findall(text):
        check((root / path).is_file(), f"{path} (in {where}) does not exist in the collection")


# A stand-in for every program the steps call: it records its arguments, the environment the step gave it, and
# the federated token file's content (that file is deleted when the step ends).
STUB = f"""#!{sys.executable}
import json, os, sys
token = os.environ.get("AZURE_FEDERATED_TOKEN_FILE")
record = {{"program": os.path.basename(sys.argv[0]), "argv": sys.argv[1:], "cwd": os.getcwd(),
          "env": {{k: v for k, v in os.environ.items() if k.startswith(("AZURE", "SYSTEM_", "ANSIBLE_", "IOTOPS_"))}},
          "token": open(token).read() if token else None}}
with open(os.environ["STUB_LOG"], "a") as log:
    log.write(json.dumps(record) + "\\n")
# python -m venv DIR: a virtualenv whose programs are stand-ins too
if sys.argv[1:3] == ["-m", "venv"]:
    os.makedirs(os.path.join(sys.argv[3], "bin"), exist_ok=True)
    for program in ("python", "ansible-galaxy", "ansible-playbook"):
        os.symlink(os.path.join(os.environ["STUB_DIR"], program), os.path.join(sys.argv[3], "bin", program))
# ansible-galaxy collection build --output-path DIR: the tarball
if sys.argv[1:3] == ["collection", "build"]:
    out = sys.argv[sys.argv.index("--output-path") + 1]
    os.makedirs(out, exist_ok=True)
    open(os.path.join(out, "iotops-dps_tls-0.1.0.tar.gz"), "w").close()
# the audit's exit code, as the test asks (4: some devices unreachable)
if "iotops.dps_tls.audit_readiness" in sys.argv:
    sys.exit(int(os.environ.get("STUB_AUDIT_RC", "0")))
"""
SETVARIABLE = re.compile(r"^##vso\[task\.setvariable variable=([^;\]]+)[^\]]*\](.*)$", re.M)
SPN = {"servicePrincipalId": "spn-client-id", "tenantId": "spn-tenant-id", "idToken": "federated-token-value"}


def run_steps(steps, sandbox, audit_rc=0):
    """Run the script steps as the agent would: macros expanded, step env, AzureCLI@2's service principal
    variables, and variables that earlier steps set with ##vso[task.setvariable]. Returns the programs called and
    what each step printed; stops at the first step that fails, as the agent does (the failure is in the output)."""
    macros = {"System.AccessToken": "system-access-token"}
    for name in ("Agent.TempDirectory", "Common.TestResultsDirectory", "Build.SourcesDirectory", "Pipeline.Workspace"):
        macros[name] = str(sandbox / name.replace(".", "_"))
        (sandbox / name.replace(".", "_")).mkdir(parents=True, exist_ok=True)
    stubs = sandbox / "stubs"
    stubs.mkdir(exist_ok=True)
    for program in ("python", "python3", "ansible-galaxy", "ansible-playbook"):
        (stubs / program).write_text(STUB)
        (stubs / program).chmod(0o755)
    log = sandbox / "calls.jsonl"
    log.unlink(missing_ok=True)

    pipeline_variables = {}

    def expand(text):
        return MACRO.sub(lambda match: macros.get(match.group(1), pipeline_variables.get(match.group(1),
                                                                                         match.group(0))), str(text))

    outputs = {}
    for step in steps:
        scripts = list(scripts_of(step))
        if not scripts:
            continue
        env = {"PATH": f"{stubs}:/usr/bin:/bin", "HOME": str(sandbox), "STUB_LOG": str(log), "STUB_DIR": str(stubs),
               "STUB_AUDIT_RC": str(audit_rc)}
        env.update(pipeline_variables)
        env.update({key: expand(value) for key, value in (step.get("env") or {}).items()})
        if step.get("inputs", {}).get("addSpnToEnvironment"):
            env.update(SPN)
        cwd = expand(step.get("workingDirectory") or step.get("inputs", {}).get("workingDirectory")
                     or macros["Build.SourcesDirectory"])
        pathlib.Path(cwd).mkdir(parents=True, exist_ok=True)
        result = subprocess.run(["bash", "-c", expand(scripts[0])], env=env, cwd=cwd, text=True,
                                capture_output=True, check=False)
        outputs[step.get("displayName")] = (result.returncode, result.stdout + result.stderr)
        if result.returncode != 0:
            break
        pipeline_variables.update(SETVARIABLE.findall(result.stdout))
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return calls, macros, outputs


def check_unreachable_devices(steps, label):
    """The audit exits 4 when devices were unreachable: the report counts them and the gate decides, so the run
    goes on with a warning; any other failure of the audit stops the run before the gate."""
    with tempfile.TemporaryDirectory() as directory:
        calls, dummy, outputs = run_steps(steps, pathlib.Path(directory), audit_rc=4)
    rc, text = outputs["Audit TLS readiness"]
    check(rc == 0 and "##vso[task.logissue type=warning]Some devices were unreachable" in text,
          f"{label}: the audit with unreachable devices: rc {rc}, {text}")
    check("Gate on readiness" in outputs, f"{label}: the gate did not run after unreachable devices")
    audit = [call for call in calls if "iotops.dps_tls.audit_readiness" in call["argv"]]
    check(audit and audit[0]["env"].get("IOTOPS_AZURE_DEVOPS_COMPLETE_TASK") == "false",
          f"{label}: the audit's step result must follow its exit code, not the callback's task.complete")
    with tempfile.TemporaryDirectory() as directory:
        calls, dummy, outputs = run_steps(steps, pathlib.Path(directory), audit_rc=2)
    check(outputs["Audit TLS readiness"][0] == 2 and "Gate on readiness" not in outputs,
          f"{label}: a failed audit (rc 2) must stop the run: {list(outputs)}")


def check_agent_run(steps, params, label):
    with tempfile.TemporaryDirectory() as directory:
        sandbox = pathlib.Path(directory)
        calls, macros, outputs = run_steps(steps, sandbox)
        failed = [(name, out) for name, (rc, out) in outputs.items() if rc != 0]
        check(not failed, f"{label}: steps failed: {failed}")
        collection = f"{macros['Agent.TempDirectory']}/ansible-collections/ansible_collections/iotops/dps_tls"
        vars_file = pathlib.Path(macros["Agent.TempDirectory"]) / "dps-tls-pipeline.yml"
        playbook_vars = yaml.safe_load(vars_file.read_text()) if vars_file.exists() else {}
    report_dir = REPORT_DIR.replace("$(Common.TestResultsDirectory)", macros["Common.TestResultsDirectory"])
    source = "workload_identity" if params["authentication"] == "azure_cli" else "azure_pipelines"
    expected_vars = {"readiness_report_dir": report_dir, "readiness_min_ratio": params["readinessMinRatio"],
                     "tls_readiness_gate": False, "dps_azure": {"auth_source": source}}
    check(playbook_vars == expected_vars, f"{label}: the playbooks get {playbook_vars}")

    playbooks = [call for call in calls if call["program"] == "ansible-playbook"]
    ran = [next((arg for arg in call["argv"] if arg.startswith(("iotops.", "/"))), None) for call in playbooks]
    expected = [f"{collection}/extensions/azure_pipelines/check_azure_access.yml", "iotops.dps_tls.audit_readiness"]
    expected += ["iotops.dps_tls.provision_dps"] if params["provision"] else []
    expected += ["iotops.dps_tls.trust_roots"] if params["trustRoots"] else []
    check(ran == expected, f"{label}: ran {ran}, expected {expected}")
    for call, playbook in zip(playbooks, ran):
        where = f"{label}: {pathlib.PurePath(str(playbook)).name}"
        check(["-e", f"@{vars_file}"] in [call["argv"][i:i + 2] for i in range(len(call["argv"]))],
              f"{where}: no pipeline variables")
        pairs = [call["argv"][i:i + 2] for i in range(len(call["argv"]))]
        check((["-e", f"@{params['extraVarsFile']}"] in pairs) == bool(params["extraVarsFile"]),
              f"{where}: extraVarsFile {params['extraVarsFile']!r} in {call['argv']}")
        check(call["env"].get("ANSIBLE_STDOUT_CALLBACK") == "iotops.dps_tls.azure_devops", f"{where}: no callback")
        check(call["env"].get("ANSIBLE_COLLECTIONS_PATH") == collection.rsplit("/ansible_collections/", 1)[0],
              f"{where}: ANSIBLE_COLLECTIONS_PATH {call['env'].get('ANSIBLE_COLLECTIONS_PATH')}")
        talks_to_azure = "check_azure_access" in " ".join(call["argv"]) or "iotops.dps_tls.provision_dps" in call["argv"]
        if not talks_to_azure:
            check(not any(key.startswith("AZURE_CLIENT") for key in call["env"]), f"{where}: Azure credentials")
        if "check_azure_access" not in " ".join(call["argv"]):
            check(call["argv"][call["argv"].index("-i") + 1] == params["inventory"], f"{where}: inventory")
            if "iotops.dps_tls.provision_dps" in call["argv"]:
                # it runs on the agent: device options such as --limit canary would make it skip silently
                check(not set(params["playbookOptions"].split()) & set(call["argv"]), f"{where}: device options")
            else:
                check(call["argv"][-2:] == params["playbookOptions"].split(), f"{where}: playbook options")
        if not talks_to_azure:
            continue
        env = call["env"]
        check(env.get("AZURE_CLIENT_ID") == SPN["servicePrincipalId"] and env.get("AZURE_TENANT_ID") == SPN["tenantId"]
              and env.get("AZURE_SUBSCRIPTION_ID") == params["subscriptionId"], f"{where}: service principal {env}")
        if source == "workload_identity":
            check(call["token"] == SPN["idToken"], f"{where}: the token file holds {call['token']!r}")
        else:
            check(call["token"] is None, f"{where}: a token file with azure_pipelines")
            check(env.get("SYSTEM_ACCESSTOKEN") == "system-access-token", f"{where}: no System.AccessToken")
            check(env.get("AZURESUBSCRIPTION_SERVICE_CONNECTION_ID") == params["serviceConnectionId"],
                  f"{where}: service connection id {env.get('AZURESUBSCRIPTION_SERVICE_CONNECTION_ID')}")
    gate = [call for call in calls if call["program"] == "python" and call["argv"][0].endswith("readiness_gate.py")]
    check(len(gate) == 1 and gate[0]["argv"][1:] == [report_dir],
          f"{label}: the gate ran as {[call['argv'] for call in gate]}")
    venv = [call for call in calls if call["argv"][:2] == ["-m", "venv"]]
    maker = "python" if params["usePythonVersion"] else params["python"]
    check([call["program"] for call in venv] == [maker], f"{label}: the virtualenv made by {venv}, not {maker}")
    galaxy = [call for call in calls if call["program"] == "ansible-galaxy"]
    check(len(galaxy) == 1 and galaxy[0]["argv"][-1] == params["collection"], f"{label}: collection install")


def check_steps_template(root):
    template = yaml.safe_load((root / STEPS_TEMPLATE).read_text())
    declared = {item["name"]: item for item in template["parameters"]}
    required = sorted(name for name, item in declared.items() if "default" not in item)
    check(required == ["inventory", "serviceConnection", "subscriptionId"], f"required parameters: {required}")
    source = (root / STEPS_TEMPLATE).read_text()
    for name in declared:
        check(f"parameters.{name}" in source, f"parameter {name} is declared but never used")
    for name in ("provision", "trustRoots"):
        check(declared[name]["type"] == "boolean", f"{name} must be a boolean")

    base = {name: item.get("default") for name, item in declared.items()}
    base.update(serviceConnection="fleet-wif", subscriptionId="0000", inventory="inventories/fleet.yml",
                serviceConnectionId="11111111-2222-3333-4444-555555555555", playbookOptions="--forks 50",
                readinessMinRatio=0.95)
    variants = itertools.product(declared["authentication"]["values"], (True, False), (True, False))
    for authentication, provision, trust_roots in variants:
        # an agent without internet: no UsePythonVersion@0, the agent's python3 makes the virtualenv
        params = dict(base, authentication=authentication, provision=provision, trustRoots=trust_roots,
                      extraVarsFile="vars/dps.yml" if provision else "", usePythonVersion=provision or trust_roots)
        label = f"authentication={authentication} provision={provision} trustRoots={trust_roots}"
        steps = render(root, STEPS_TEMPLATE, params)["steps"]
        order = [step.get("displayName") for step in steps]
        expected = [EXPECTED_ORDER[0].replace("${{ parameters.pythonVersion }}", str(params["pythonVersion"]))]
        expected = expected if params["usePythonVersion"] else []
        expected += [name for name in EXPECTED_ORDER[1:]
                     if (name != "Provision the DPS instance" or provision)
                     and (name != "Install the DPS roots on the devices" or trust_roots)]
        check(order == expected, f"{label}: steps {order}, expected {expected}")
        for step in steps:
            where = f"{label}: {step.get('displayName')}"
            kinds = [key for key in ("task", "bash", "script", "template") if key in step]
            check(len(kinds) == 1, f"{where}: a step needs exactly one of task, bash, script, template")
            if "task" in step:
                check(re.fullmatch(r"\w+@\d+", step["task"]) is not None, f"{where}: task {step['task']}")
            for script in scripts_of(step):
                shell_checks(script, where)
            names_exist(yaml.safe_dump(step), root, where)
            if step.get("task", "").startswith("AzureCLI@"):
                inputs = step["inputs"]
                check(inputs.get("addSpnToEnvironment") is True, f"{where}: needs addSpnToEnvironment")
                check("dps-tls-pipeline.yml" in inputs["inlineScript"], f"{where}: no auth source")
        by_name = {step.get("displayName"): step for step in steps}
        publish = by_name["Publish the readiness report"]
        check(publish["task"] == "PublishTestResults@2", f"{label}: publish uses {publish['task']}")
        check(publish["inputs"]["testResultsFormat"] == "JUnit", f"{label}: the report is JUnit")
        check(publish["inputs"]["searchFolder"] == REPORT_DIR, f"{label}: publish reads another folder")
        check(publish.get("condition") == "succeededOrFailed()",
              f"{label}: the report must be published when the audit fails too")
        check_agent_run(steps, params, label)
        check_unreachable_devices(steps, label)
    return declared


def check_example(root, declared):
    pipeline = yaml.safe_load((root / EXAMPLE).read_text())
    repositories = {repo["repository"] for repo in pipeline["resources"]["repositories"]}
    uses = []
    for job in pipeline["jobs"]:
        for step in job["steps"]:
            if "template" in step:
                path, dummy, repo = step["template"].partition("@")
                check(repo in repositories, f"example: template from unknown repository {repo}")
                check((root / path).is_file(), f"example: template {path} does not exist in the collection")
                given = step.get("parameters", {})
                missing = [name for name, item in declared.items() if "default" not in item and name not in given]
                unknown = [name for name in given if name not in declared]
                check(not missing, f"example: required parameters missing: {missing}")
                check(not unknown, f"example: parameters the template does not declare: {unknown}")
                check(given.get("authentication", "azure_pipelines") in declared["authentication"]["values"],
                      "example: authentication value")
                uses.append(path)
            for script in scripts_of(step):
                shell_checks(substitute(script, {"provision": True}), f"example: {step.get('displayName')}")
            names_exist(yaml.safe_dump(step), root, f"example: {step.get('displayName')}")
    check(uses == [STEPS_TEMPLATE], f"example uses templates {uses}")


def job_steps(job):
    return job.get("steps") or job["strategy"]["runOnce"]["deploy"]["steps"]


def check_stage_jobs(jobs, params, label):
    """What each job of the stages must do: build and publish the collection once, install it from the artifact
    elsewhere, publish the reports, check out the repository where playbooks read it, and bind provisioning to the
    environment."""
    collection = job_steps(jobs["collection"])
    check({"checkout": params["collectionRepository"]} in collection, f"{label}: the collection job checks out "
          f"{[step for step in collection if 'checkout' in step]}")
    check(any(step.get("inputs", {}).get("artifact") == "dps-tls-collection" for step in collection),
          f"{label}: the collection job does not publish dps-tls-collection")
    for name, job in jobs.items():
        steps = job_steps(job)
        install = [step for step in steps if step.get("displayName") == "Install Ansible and iotops.dps_tls"]
        check(len(install) == 1 and install[0]["env"]["DPS_TLS_COLLECTION"] == "", f"{label}: {name} installs {install}")
        if name != "collection":
            check({"download": "current", "artifact": "dps-tls-collection", "displayName": "Download the collection"}
                  in steps, f"{label}: {name} does not install the pipeline's own collection")
        for step in steps:
            for script in scripts_of(step):
                shell_checks(script, f"{label}: {name}: {step.get('displayName')}")
            names_exist(yaml.safe_dump(step), pathlib.Path(params["root"]), f"{label}: {name}")
    for name in ("audit", "provision", "trust_roots"):
        if name in jobs:
            check(job_steps(jobs[name])[0] == {"checkout": "self"}, f"{label}: {name} must check out the repository first")
    audit = {step.get("displayName"): step for step in job_steps(jobs["audit"])}
    check(audit["Publish the readiness report"]["task"] == "PublishTestResults@2", f"{label}: no JUnit publish")
    check("##vso[task.uploadsummary]" in audit["Show the readiness summary"]["bash"], f"{label}: no summary")
    check(audit["Publish the readiness reports"]["inputs"]["artifact"] == "dps-tls-readiness", f"{label}: reports")
    if "provision" in jobs:
        check(jobs["provision"].get("deployment") == "provision"
              and jobs["provision"].get("environment") == params["environment"],
              f"{label}: provisioning must be a deployment job bound to the environment: {jobs['provision']}")


def check_stages(root, reports):
    """The stages template for every combination of provision and trustRoots: stage order, the fail-closed
    conditions after the gate, each job's duties, and the gate step run for real on a passing and a failing audit."""
    gate_output = "eq(dependencies.gate.outputs['gate.verdict.passed'], 'true')"
    for provision, trust_roots in itertools.product((True, False), (True, False)):
        params = {"environment": "fleet-prod", "serviceConnection": "wif", "subscriptionId": "0000",
                  "inventory": "inventories/fleet.yml", "collectionRepository": "dps_tls", "provision": provision,
                  "trustRoots": trust_roots, "root": str(root)}
        label = f"stages provision={provision} trustRoots={trust_roots}"
        declared = {item["name"]: item for item in yaml.safe_load((root / STAGES_TEMPLATE).read_text())["parameters"]}
        values = {name: item.get("default") for name, item in declared.items()}
        values.update((name, value) for name, value in params.items() if name in declared)
        stages = render(root, STAGES_TEMPLATE, values)["stages"]
        names = [stage["stage"] for stage in stages]
        expected = ["audit", "gate"] + ["provision"] * provision + ["trust_roots"] * trust_roots
        check(names == expected, f"{label}: stages {names}, expected {expected}")
        for stage in stages[2:]:
            check("gate" in stage["dependsOn"] and stage["condition"] == f"and(succeeded(), {gate_output})",
                  f"{label}: {stage['stage']} must wait for the gate's verdict: {stage.get('condition')}")
        jobs = {job.get("job") or job.get("deployment"): job for stage in stages for job in stage["jobs"]}
        check_stage_jobs(jobs, params, label)
    gate = render(root, "extensions/azure_pipelines/dps-tls-gate-steps.yml", {
        "reportDirectory": "$(Reports)", "collectionDirectory": str(root)})["steps"][0]
    check(gate.get("name") == "verdict", "the gate step must be named verdict")
    check(len(reports) == 2, "the gate needs a passing and a failing report directory")
    with tempfile.TemporaryDirectory() as programs:
        (pathlib.Path(programs) / "python").symlink_to(sys.executable)
        for report, passes in zip(reports, (True, False)):
            env = {key: value.replace("$(Reports)", report) for key, value in gate["env"].items()}
            env["PATH"] = f"{programs}:/usr/bin:/bin"
            result = subprocess.run(["bash", "-c", gate["bash"]], env=env, text=True, capture_output=True,
                                    check=False)
            said = "##vso[task.setvariable variable=passed;isoutput=true]true" in result.stdout.splitlines()
            check((result.returncode == 0) == passes and said == passes,
                  f"the gate on {report}: rc {result.returncode}, verdict.passed {said}, expected {passes}")


def main():
    root = pathlib.Path(sys.argv[1]).resolve()
    check(shutil.which("shellcheck") is not None, "shellcheck is not installed")
    if not failures:
        declared = check_steps_template(root)
        check_example(root, declared)
        check_stages(root, sys.argv[2:4])
    # One line per problem: the same one shows up in several variants.
    for message in dict.fromkeys(re.sub(r"authentication=\S+ provision=\S+ trustRoots=\S+: ", "", m) for m in failures):
        print(f"FAIL: {message}")
    if failures:
        return 1
    print("ok: templates parse, render in every variant and name only what exists")
    return 0


if __name__ == "__main__":
    sys.exit(main())
