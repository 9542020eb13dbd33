"""Checks on the chart's rendered manifests that helm lint and
kubernetes-validate cannot make: least-privilege RBAC, the hardened pod,
the options each values file turns on, and a description for every value.

Usage:
  manifests.py rbac CONTROLLER_MOD_RS RENDERED.yaml...
  manifests.py pod RENDERED.yaml --replicas N [--pdb] [--service-monitor]
  manifests.py values-described values.yaml values.schema.json
  manifests.py args-known HELP.txt RENDERED.yaml...
  manifests.py tenancy RENDERED.yaml VALUES.yaml...

Exits non-zero, naming every problem, when a check fails. Run by
scripts/check-chart.sh with the Python of the kubernetes-validate venv
(PyYAML comes with it).
"""

import sys

import yaml


def load_all(paths):
    docs = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            docs.extend(d for d in yaml.safe_load_all(f) if d)
    return docs


def fail(problems, what):
    if problems:
        for p in problems:
            print(f"  FAIL {what}: {p}", file=sys.stderr)
        sys.exit(1)


def parse_verbs(path):
    """The operator's API use, from the table under "Kubernetes API access"
    in the controller's module doc (operator/src/controller/mod.rs):
    `| `group` | `resource` | `verb`, `verb` | why |`, group `""` being the
    core group. Rows for the same resource add up."""
    import re

    allowed = {}
    in_section = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            text = line.strip()
            if not text.startswith("//!"):
                continue
            text = text[3:].strip()
            if text.startswith("#"):
                in_section = "Kubernetes API access" in text
                continue
            if not in_section or not text.startswith("|"):
                continue
            cells = [c.strip() for c in text.strip("|").split("|")]
            if len(cells) < 3 or not cells[0].startswith("`"):
                continue  # header or separator row
            group = re.findall(r"`([^`]*)`", cells[0])[0].strip('"')
            resource = re.findall(r"`([^`]*)`", cells[1])[0]
            verbs = set(re.findall(r"`([^`]*)`", cells[2]))
            allowed.setdefault((group, resource), set()).update(verbs)
    if not allowed:
        sys.exit(f"no API-use table (\"Kubernetes API access\") found in {path}")
    return allowed


def check_rbac(verbs_file, paths):
    allowed = parse_verbs(verbs_file)
    granted = {}
    problems = []
    kinds = ("ClusterRole", "Role")
    roles = [d for d in load_all(paths) if d.get("kind") in kinds]
    if not roles:
        problems.append("no Role or ClusterRole rendered")
    for role in roles:
        name = f"{role['kind']}/{role['metadata']['name']}"
        if role.get("aggregationRule"):
            problems.append(f"{name}: aggregationRule grants whatever matches; not allowed")
        for i, rule in enumerate(role.get("rules") or []):
            where = f"{name} rule {i}"
            for field in ("apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs"):
                if any("*" in str(v) for v in rule.get(field) or []):
                    problems.append(f"{where}: `*` in {field}: {rule.get(field)}")
            if rule.get("nonResourceURLs"):
                problems.append(f"{where}: nonResourceURLs are never used by the operator")
            for group in rule.get("apiGroups") or []:
                for resource in rule.get("resources") or []:
                    use = allowed.get((group, resource))
                    if use is None:
                        problems.append(f"{where}: grants {group or 'core'}/{resource}, which the operator never touches")
                        continue
                    extra = set(rule.get("verbs") or []) - use
                    if extra:
                        problems.append(
                            f"{where}: verbs {sorted(extra)} on {group or 'core'}/{resource}; the operator uses only {sorted(use)}"
                        )
                    granted.setdefault((group, resource), set()).update(rule.get("verbs") or [])
    # Least privilege must not break the operator: every verb it uses is granted.
    for key, verbs in allowed.items():
        missing = verbs - granted.get(key, set())
        if missing:
            problems.append(f"the operator uses {sorted(missing)} on {key[0] or 'core'}/{key[1]} but no rule grants it")
    fail(problems, "rbac")
    print(f"  ok rbac: {len(roles)} roles, no `*`, verbs within the operator's use ({len(allowed)} resources)")


def check_pod(path, replicas, want_pdb, want_service_monitor):
    docs = load_all([path])
    problems = []
    deployments = [d for d in docs if d["kind"] == "Deployment"]
    if len(deployments) != 1:
        fail([f"expected one Deployment, found {len(deployments)}"], "pod")
    dep = deployments[0]
    if dep["spec"]["replicas"] != replicas:
        problems.append(f"replicas {dep['spec']['replicas']} != {replicas}")
    pod = dep["spec"]["template"]["spec"]
    psc = pod.get("securityContext") or {}
    if psc.get("runAsNonRoot") is not True:
        problems.append("pod securityContext.runAsNonRoot is not true")
    if (psc.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
        problems.append("pod seccompProfile is not RuntimeDefault")
    (container,) = pod["containers"]
    sc = container.get("securityContext") or {}
    expect = {
        "runAsNonRoot": True,
        "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False,
    }
    for key, value in expect.items():
        if sc.get(key) is not value:
            problems.append(f"container securityContext.{key} is {sc.get(key)!r}, want {value!r}")
    if (sc.get("capabilities") or {}).get("drop") != ["ALL"]:
        problems.append("container capabilities.drop is not [ALL]")
    if (sc.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
        problems.append("container seccompProfile is not RuntimeDefault")
    for probe, path_ in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        got = ((container.get(probe) or {}).get("httpGet") or {}).get("path")
        if got != path_:
            problems.append(f"{probe} path is {got!r}, want {path_}")
    args = container.get("args") or []
    if not args or args[0] != "run":
        problems.append(f"container args do not start with `run`: {args}")
    if "--leader-election" not in args:
        problems.append("leader election is not on")
    res = container.get("resources") or {}
    if not (res.get("requests") and (res.get("limits") or {}).get("memory")):
        problems.append("resources need requests and a memory limit")
    kinds = [d["kind"] for d in docs]
    if want_pdb != ("PodDisruptionBudget" in kinds):
        problems.append(f"PodDisruptionBudget rendered: {'PodDisruptionBudget' in kinds}, want {want_pdb}")
    if want_service_monitor != ("ServiceMonitor" in kinds):
        problems.append(f"ServiceMonitor rendered: {'ServiceMonitor' in kinds}, want {want_service_monitor}")
    if "Service" not in kinds:
        problems.append("no metrics Service")
    fail(problems, f"pod ({path})")
    print(f"  ok pod ({path}): hardened securityContext, probes, leader election, {replicas} replica(s), kinds {sorted(set(kinds))}")


def check_values_described(values_path, schema_path):
    """Every value in values.yaml appears in the schema with a description.
    A map the schema leaves free-form (probes, resources, security contexts)
    is described as a whole."""
    import json

    with open(values_path, encoding="utf-8") as f:
        values = yaml.safe_load(f)
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)

    def deref(node):
        if "$ref" not in node:
            return node
        target = schema
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return {**target, **{k: v for k, v in node.items() if k != "$ref"}}

    problems = []
    seen = 0

    def walk(value, node, path):
        nonlocal seen
        node = deref(node)
        seen += 1
        if not node.get("description"):
            problems.append(f"`{path}` has no description in values.schema.json")
        props = node.get("properties")
        if isinstance(value, dict) and value and props is not None:
            for key, child in value.items():
                if key not in props:
                    problems.append(f"`{path}.{key}` is not in values.schema.json")
                else:
                    walk(child, props[key], f"{path}.{key}")

    for key, child in values.items():
        if key not in schema["properties"]:
            problems.append(f"`{key}` is not in values.schema.json")
        else:
            walk(child, schema["properties"][key], key)
    fail(problems, "values schema")
    print(f"  ok values schema: all {seen} values in values.yaml are in the schema with descriptions")


def check_args_known(help_path, paths):
    """Every `--flag` the chart passes to `bucketcors run` is one the binary
    accepts (its `run --help` text), so a rendered Deployment cannot
    crash-loop on an unknown argument."""
    with open(help_path, encoding="utf-8") as f:
        help_text = f.read()
    known = set()
    for word in help_text.replace(",", " ").replace("=", " ").replace("[", " ").replace("]", " ").split():
        if word.startswith("--"):
            known.add(word.rstrip(".:;<>"))
    problems = []
    checked = 0
    for dep in (d for d in load_all(paths) if d.get("kind") == "Deployment"):
        for container in dep["spec"]["template"]["spec"]["containers"]:
            for arg in container.get("args") or []:
                if arg.startswith("--"):
                    flag = arg.split("=", 1)[0]
                    checked += 1
                    if flag not in known:
                        problems.append(f"`{flag}` is not an option of `bucketcors run` (it knows {sorted(known)})")
    if checked == 0:
        problems.append("no --flags rendered")
    fail(problems, "args")
    print(f"  ok args: {checked} rendered flags are all options of `bucketcors run`")


def check_tenancy(path, values_paths):
    """The Deployment passes exactly the tenancy values (defaults overlaid
    by the given values files) as `bucketcors run` flags."""
    tenancy = {}
    for values_path in values_paths:
        with open(values_path, encoding="utf-8") as f:
            tenancy.update((yaml.safe_load(f) or {}).get("tenancy") or {})
    want = [f"--default-credentials-namespace={n}" for n in tenancy.get("defaultCredentialsNamespaces") or []]
    want += [f"--allowed-endpoint={e}" for e in tenancy.get("allowedEndpoints") or []]
    want += [f"--edge-hosts={ns}={','.join(hosts)}" for ns, hosts in sorted((tenancy.get("edgeHosts") or {}).items())]
    (dep,) = [d for d in load_all([path]) if d["kind"] == "Deployment"]
    (container,) = dep["spec"]["template"]["spec"]["containers"]
    flags = ("--default-credentials-namespace=", "--allowed-endpoint=", "--edge-hosts=")
    got = [a for a in container.get("args") or [] if a.startswith(flags)]
    problems = [] if got == want else [f"tenancy flags are {got}, want {want}"]
    if not any(a.startswith("--allowed-endpoint=") for a in got):
        problems.append("no --allowed-endpoint: the operator would fall back on its built-in list silently")
    fail(problems, f"tenancy ({path})")
    print(f"  ok tenancy ({path}): {len(got)} flags as the values say")


def main(argv):
    cmd = argv[1]
    if cmd == "rbac":
        check_rbac(argv[2], argv[3:])
    elif cmd == "pod":
        path = argv[2]
        replicas = int(argv[argv.index("--replicas") + 1])
        check_pod(path, replicas, "--pdb" in argv, "--service-monitor" in argv)
    elif cmd == "args-known":
        check_args_known(argv[2], argv[3:])
    elif cmd == "tenancy":
        check_tenancy(argv[2], argv[3:])
    elif cmd == "values-described":
        check_values_described(argv[2], argv[3])
    else:
        sys.exit(f"unknown check {cmd}")


if __name__ == "__main__":
    main(sys.argv)
