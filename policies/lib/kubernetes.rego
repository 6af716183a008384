# Helpers shared by the built-in rules: where a resource keeps its pod spec and containers,
# how to name it in a message, how to read an image reference, and lookups that never raise.
#
# regorus (like OPA with strict builtin errors) aborts the whole evaluation of a document when a
# builtin gets a value of the wrong type, e.g. `lower(3)` or `some x in "text"`. Manifests are
# untrusted input, so every lookup of a value that is iterated or handed to a builtin goes
# through `object_at`, `array_at` or `string_at`, which fall back to an empty value instead.
package lib.kubernetes

# --- Safe lookups ----------------------------------------------------------------------------

# The object at `path` inside `o`, or {} when `o` is not an object or the value is not one.
object_at(o, path) := v if {
	is_object(o)
	v := object.get(o, path, {})
	is_object(v)
} else := {}

# The array at `path` inside `o`, or [] when absent or not an array.
array_at(o, path) := v if {
	is_object(o)
	v := object.get(o, path, [])
	is_array(v)
} else := []

# The string at `path` inside `o`, or "" when absent or not a string.
string_at(o, path) := v if {
	is_object(o)
	v := object.get(o, path, "")
	is_string(v)
} else := ""

# The strings of an array (other elements are dropped), as a set.
string_set(values) := {v | some v in values; is_string(v)} if {
	is_array(values)
} else := set()

# --- Identity --------------------------------------------------------------------------------

kind(r) := string_at(r, ["kind"])

name(r) := n if {
	n := string_at(r, ["metadata", "name"])
	n != ""
} else := concat("", [g, "*"]) if {
	g := string_at(r, ["metadata", "generateName"])
	g != ""
} else := "(unnamed)"

# "" when the manifest leaves the namespace to the tool that applies it.
namespace(r) := string_at(r, ["metadata", "namespace"])

# "Deployment web": how every message of the library starts.
identity(r) := sprintf("%s %s", [kind(r), name(r)])

# "apps" for "apps/v1", "" for the core group ("v1").
api_group(r) := g if {
	parts := split(string_at(r, ["apiVersion"]), "/")
	count(parts) == 2
	g := parts[0]
} else := ""

# True when `r` is a `kind` of one of `groups` (a set of API groups, "" for the core group).
is_kind(r, k, groups) if {
	kind(r) == k
	api_group(r) in groups
}

labels(r) := object_at(r, ["metadata", "labels"])

# --- Pod specs -------------------------------------------------------------------------------

# The API groups each workload kind is served from (old extensions/* manifests included).
workload_groups := {
	"Pod": {""},
	"ReplicationController": {""},
	"Deployment": {"apps", "extensions"},
	"ReplicaSet": {"apps", "extensions"},
	"DaemonSet": {"apps", "extensions"},
	"StatefulSet": {"apps"},
	"Job": {"batch"},
	"CronJob": {"batch"},
}

# Where each workload kind keeps its pod template (a Pod is its own template).
pod_template_paths := {
	"ReplicationController": ["spec", "template"],
	"Deployment": ["spec", "template"],
	"ReplicaSet": ["spec", "template"],
	"DaemonSet": ["spec", "template"],
	"StatefulSet": ["spec", "template"],
	"Job": ["spec", "template"],
	"CronJob": ["spec", "jobTemplate", "spec", "template"],
}

is_workload(r) if is_kind(r, kind(r), workload_groups[kind(r)])

# The path of the pod spec inside the resource: ["spec"] for a Pod, the template's spec else.
pod_spec_path(r) := ["spec"] if {
	is_workload(r)
	kind(r) == "Pod"
} else := array.concat(pod_template_paths[kind(r)], ["spec"]) if {
	is_workload(r)
}

# The pod spec of a workload (Pod, Deployment, ..., CronJob's jobTemplate); undefined for other
# resources and for a workload without one.
pod_spec(r) := s if {
	s := object.get(r, pod_spec_path(r), null)
	is_object(s)
}

# "spec.template.spec": the pod spec's field path, for messages and details.
pod_spec_field(r) := concat(".", pod_spec_path(r))

# The labels the workload's pods get (a Pod's own labels).
pod_labels(r) := labels(r) if {
	is_workload(r)
	kind(r) == "Pod"
} else := object_at(r, array.concat(pod_template_paths[kind(r)], ["metadata", "labels"])) if {
	is_workload(r)
}

# Pods that run to completion (Jobs, CronJobs, `restartPolicy: Never|OnFailure`): probes and
# disruption budgets do not apply to them.
runs_to_completion(r) if kind(r) in {"Job", "CronJob"}

runs_to_completion(r) if string_at(pod_spec(r), ["restartPolicy"]) in {"Never", "OnFailure"}

# --- Containers ------------------------------------------------------------------------------

container_kinds := [
	{"field": "initContainers", "label": "init container"},
	{"field": "containers", "label": "container"},
	{"field": "ephemeralContainers", "label": "ephemeral container"},
]

# The containers of the given pod spec fields, each as
#   {"container": {...}, "name": "app", "field": "containers", "label": "container",
#    "what": "container \"app\"", "path": "spec.template.spec.containers[0]"}
container_entries(r, fields) := [entry |
	spec := pod_spec(r)
	prefix := pod_spec_field(r)
	some ck in container_kinds
	ck.field in fields
	some i, c in array_at(spec, [ck.field])
	is_object(c)
	n := string_at(c, ["name"])
	entry := {
		"container": c,
		"name": n,
		"field": ck.field,
		"label": ck.label,
		"what": sprintf("%s \"%s\"", [ck.label, n]),
		"path": sprintf("%s.%s[%d]", [prefix, ck.field, i]),
	}
]

# Every container: init, regular and ephemeral (the security rules look at all of them, as the
# Pod Security Standards do).
containers(r) := container_entries(r, {"initContainers", "containers", "ephemeralContainers"})

# The containers the scheduler sizes the pod by: init and regular (ephemeral containers have no
# resources, ports or probes).
scheduled_containers(r) := container_entries(r, {"initContainers", "containers"})

# The containers that keep running: regular ones and native sidecars (init containers with
# `restartPolicy: Always`), the ones probes are for.
serving_containers(r) := [e |
	some e in container_entries(r, {"initContainers", "containers"})
	is_serving(e)
]

is_serving(e) if e.field == "containers"

is_serving(e) if string_at(e.container, ["restartPolicy"]) == "Always"

# A container's securityContext field, else the pod's (runAsNonRoot, runAsUser, seccompProfile
# can be set at either level; the container's wins). null when neither sets it.
effective_security(spec, c, field) := v if {
	v := object.get(object_at(c, ["securityContext"]), field, null)
	v != null
} else := object.get(object_at(spec, ["securityContext"]), field, null)

# --- Images ----------------------------------------------------------------------------------

# An image reference split the way the container runtime reads it:
#   "nginx"                          -> docker.io / library/nginx, tag "", digest ""
#   "ghcr.io/acme/app:1.2@sha256:…"   -> ghcr.io / acme/app, tag "1.2", digest "sha256:…"
#   "localhost:5000/app"             -> localhost:5000 / app
image_reference(image) := ref if {
	is_string(image)
	at := split(image, "@")
	digest := digest_of(at)
	parts := split(at[0], "/")
	registry := registry_of(parts)
	path := path_of(parts)
	last := split(path[count(path) - 1], ":")
	tag := tag_of(last)
	repo_parts := array.concat(array.slice(path, 0, count(path) - 1), [last[0]])
	ref := {
		"registry": registry,
		"repository": concat("/", repository_parts(registry, repo_parts)),
		"tag": tag,
		"digest": digest,
	}
}

digest_of(at) := at[1] if {
	count(at) > 1
} else := ""

tag_of(last) := last[1] if {
	count(last) > 1
} else := ""

# The first component names a registry when it looks like a host: a dot, a port or "localhost".
registry_of(parts) := normalize_registry(parts[0]) if {
	count(parts) > 1
	looks_like_host(parts[0])
} else := "docker.io"

looks_like_host(p) if contains(p, ".")

looks_like_host(p) if contains(p, ":")

looks_like_host(p) if p == "localhost"

normalize_registry(host) := "docker.io" if {
	lower(host) in {"index.docker.io", "registry-1.docker.io"}
} else := lower(host)

path_of(parts) := array.slice(parts, 1, count(parts)) if {
	count(parts) > 1
	looks_like_host(parts[0])
} else := parts

# Docker Hub's official images live under library/.
repository_parts(registry, parts) := array.concat(["library"], parts) if {
	registry == "docker.io"
	count(parts) == 1
} else := parts

# --- Combine mode ----------------------------------------------------------------------------

# conftest --combine input (an array of {"path", "contents"}, where contents is one document or
# a list of them) as [{"path": "...", "line": 1, "resource": {...}}]. `line` is the entry's own
# `line` when the caller provides one (conftest does not), else 1.
combined_resources(inp) := [{"path": p, "line": line, "resource": doc} |
	is_array(inp)
	some entry in inp
	is_object(entry)
	p := string_at(entry, ["path"])
	line := entry_line(entry)
	some doc in documents_of(object.get(entry, "contents", null))
]

entry_line(entry) := n if {
	n := entry.line
	is_number(n)
	n >= 1
} else := 1

documents_of(contents) := [contents] if {
	is_object(contents)
} else := [d | some d in contents; is_object(d)] if {
	is_array(contents)
} else := []

# --- Label selectors -------------------------------------------------------------------------

# True when a LabelSelector ({matchLabels, matchExpressions}) selects pods with `lbls`.
# An empty selector selects everything; a missing (null) one selects nothing.
selector_matches(selector, lbls) if {
	is_object(selector)
	every k, v in object_at(selector, ["matchLabels"]) {
		lbls[k] == v
	}
	every expr in array_at(selector, ["matchExpressions"]) {
		expression_matches(expr, lbls)
	}
}

expression_matches(expr, lbls) if {
	expr.operator == "In"
	lbls[expr.key] in array_at(expr, ["values"])
}

expression_matches(expr, lbls) if {
	expr.operator == "NotIn"
	not lbls[expr.key] in array_at(expr, ["values"])
}

expression_matches(expr, lbls) if {
	expr.operator == "Exists"
	_ = lbls[expr.key]
}

expression_matches(expr, lbls) if {
	expr.operator == "DoesNotExist"
	not has_label(lbls, expr.key)
}

has_label(lbls, key) if _ = lbls[key]

# --- Parameters ------------------------------------------------------------------------------

# A parameter from `policies.builtin.parameters` in .gitops-bot.yaml (data.gitops_bot.parameters).
# Undefined when not set, so rules that need it are inactive.
parameter(key) := data.gitops_bot.parameters[key]

# --- The same, for `input` ------------------------------------------------------------------
# Rules rather than function calls: computed once per evaluation and shared by every rule of
# the library, which evaluates all its packages in one query per resource.

input_containers := containers(input)

input_identity := identity(input)

input_pod_spec := pod_spec(input)

input_kind := kind(input)

input_namespace := namespace(input)
