# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check the Azure Pipelines templates: they parse, every variant renders, their scripts pass bash -n and
shellcheck, the steps come in the documented order, and everything they name exists in the collection.

Usage: python check_templates.py COLLECTION_ROOT
"""

from __future__ import annotations

import itertools
import pathlib
import re
import shutil
import subprocess
import sys

import yaml

STEPS_TEMPLATE = "extensions/azure_pipelines/dps-tls-steps.yml"
EXAMPLE = "extensions/azure_pipelines/azure-pipelines.yml"
EXPECTED_ORDER = [
    "Python ${{ parameters.pythonVersion }}",
    "Install Ansible and iotops.dps_tls",
    "Authenticate to Azure",
    "Audit TLS readiness",
    "Publish the readiness report",
    "Gate on readiness",
    "Provision the DPS instance",
    "Install the DPS roots on the devices",
]
REPORT_DIR = "$(Common.TestResultsDirectory)/dps-tls-readiness"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
CONDITION = re.compile(r"^if (eq|ne)\(parameters\.(\w+), ('([^']*)'|true|false)\)$")
MACRO = re.compile(r"\$\((\w+(?:\.\w+)*)\)")
COLLECTION_NAME = re.compile(r"\biotops\.dps_tls\.(\w+)")
COLLECTION_PATH = re.compile(r"ansible_collections/iotops/dps_tls/([\w./-]+)")

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def evaluate(expression, params):
    """The value of a template expression this template uses; anything else is a failure (an unchecked path)."""
    match = re.fullmatch(r"parameters\.(\w+)", expression)
    if match:
        check(match.group(1) in params, f"undeclared parameter {match.group(1)}")
        return params.get(match.group(1), "")
    match = re.fullmatch(r"replace\(parameters\.(\w+), '([^']*)', '([^']*)'\)", expression)
    if match:
        return str(params.get(match.group(1), "")).replace(match.group(2), match.group(3))
    failures.append(f"expression the test does not know: {expression}")
    return ""


def substitute(text, params):
    def replace(match):
        value = evaluate(match.group(1), params)
        return str(value).lower() if isinstance(value, bool) else str(value)
    return EXPRESSION.sub(replace, text)


def condition_holds(key, params):
    match = CONDITION.match(EXPRESSION.fullmatch(key).group(1))
    check(match is not None, f"condition the test does not know: {key}")
    if match is None:
        return False
    operator, name, literal, text = match.groups()
    check(name in params, f"undeclared parameter {name} in {key}")
    expected = text if text is not None else literal == "true"
    return (params.get(name) == expected) == (operator == "eq")


def render(node, params):
    """Expand conditional insertions and parameter expressions, as Azure Pipelines does at compile time."""
    if isinstance(node, list):
        items = []
        for item in node:
            if isinstance(item, dict) and len(item) == 1 and EXPRESSION.fullmatch(next(iter(item))):
                key, body = next(iter(item.items()))
                if condition_holds(key, params):
                    items.extend(render(body, params))
            else:
                items.append(render(item, params))
        return items
    if isinstance(node, dict):
        return {substitute(str(key), params): render(value, params) for key, value in node.items()}
    if isinstance(node, str):
        return substitute(node, params)
    return node


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


def written_vars(script, macros=True):
    """Run the part of the install script that writes the playbooks' variables file, and read that file."""
    match = re.search(r"^\{\n(.*?)\n\} > \S+$", script, re.S | re.M)
    check(match is not None, "the install step writes no variables file")
    if match is None:
        return {}
    block = match.group(1)
    if macros:
        block = MACRO.sub(lambda found: "/agent/" + found.group(1).replace(".", "_"), block)
    else:
        # Keep $(Macro) text as it is: Azure Pipelines replaces it before bash runs.
        block = block.replace("$(", "\\$(")
    result = subprocess.run(["bash", "-c", block], text=True, capture_output=True, check=False)
    check(result.returncode == 0, f"the variables block fails: {result.stderr}")
    return yaml.safe_load(result.stdout) or {}


def names_exist(text, root, where):
    """Every collection playbook, module, callback or file the text names must exist."""
    for name in COLLECTION_NAME.findall(text):
        candidates = [f"playbooks/{name}.yml", f"plugins/modules/{name}.py", f"plugins/callback/{name}.py"]
        check(any((root / path).is_file() for path in candidates),
              f"iotops.dps_tls.{name} (in {where}) is neither a playbook, a module nor a callback of the collection")
    for path in COLLECTION_PATH.findall(text):
        check((root / path).is_file(), f"{path} (in {where}) does not exist in the collection")


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
    base.update(serviceConnection="fleet-wif", subscriptionId="0000", inventory="inventories/fleet.yml")
    variants = itertools.product(declared["authentication"]["values"], (True, False), (True, False))
    for authentication, provision, trust_roots in variants:
        params = dict(base, authentication=authentication, provision=provision, trustRoots=trust_roots)
        label = f"authentication={authentication} provision={provision} trustRoots={trust_roots}"
        steps = render(template["steps"], params)
        order = [step.get("displayName") for step in steps]
        expected = [EXPECTED_ORDER[0].replace("${{ parameters.pythonVersion }}", str(params["pythonVersion"]))]
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
                check("auth_source=workload_identity" in inputs["inlineScript"]
                      or "dps-tls-pipeline.yml" in inputs["inlineScript"], f"{where}: no auth source")
        by_name = {step.get("displayName"): step for step in steps}
        publish = by_name["Publish the readiness report"]
        check(publish["task"] == "PublishTestResults@2", f"{label}: publish uses {publish['task']}")
        check(publish["inputs"]["testResultsFormat"] == "JUnit", f"{label}: the report is JUnit")
        check(publish["inputs"]["searchFolder"] == REPORT_DIR, f"{label}: publish reads another folder")
        check(publish.get("condition") == "succeededOrFailed()",
              f"{label}: the report must be published when the audit fails too")
        install = by_name["Install Ansible and iotops.dps_tls"]["bash"]
        check(written_vars(install, macros=False).get("readiness_report_dir") == REPORT_DIR,
              f"{label}: the audit writes elsewhere")
        expected_source = "workload_identity" if authentication == "azure_cli" else "azure_pipelines"
        playbook_vars = written_vars(install)
        check(playbook_vars.get("dps_azure") == {"auth_source": expected_source},
              f"{label}: the playbooks get dps_azure {playbook_vars.get('dps_azure')}")
        check("iotops.dps_tls.azure_devops" in install, f"{label}: the callback is not set")
        check(REPORT_DIR in by_name["Gate on readiness"]["bash"], f"{label}: the gate reads another folder")
        for name in ("Authenticate to Azure", "Provision the DPS instance"):
            step = by_name.get(name)
            if step is None:
                continue
            text = yaml.safe_dump(step)
            if authentication == "azure_pipelines":
                for variable in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_SUBSCRIPTION_ID",
                                 "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID", "SYSTEM_ACCESSTOKEN"):
                    check(variable in step.get("env", {}), f"{label}: {name} lacks {variable}")
            else:
                check("AZURE_FEDERATED_TOKEN_FILE" in text and "${idToken:?}" in text, f"{label}: {name} token file")
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


def main():
    root = pathlib.Path(sys.argv[1]).resolve()
    check(shutil.which("shellcheck") is not None, "shellcheck is not installed")
    if not failures:
        declared = check_steps_template(root)
        check_example(root, declared)
    # One line per problem: the same one shows up in several variants.
    for message in dict.fromkeys(re.sub(r"authentication=\S+ provision=\S+ trustRoots=\S+: ", "", m) for m in failures):
        print(f"FAIL: {message}")
    if failures:
        return 1
    print("ok: templates parse, render in every variant and name only what exists")
    return 0


if __name__ == "__main__":
    sys.exit(main())
