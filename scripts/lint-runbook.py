#!/usr/bin/env python3
"""Checks every gcloud and kubectl command of a runbook against the installed CLIs' own help, offline.

    scripts/lint-runbook.py [deploy/README.md]

For each command in the runbook's ```sh blocks (continuation lines joined; pipes, `;`, `&&`, `$(...)` and loops
split): the command path must exist and be a command, not a group (`gcloud sql instances create`, `kubectl create
secret generic`), and every flag it is given must be one of that command's flags or the CLI's global ones. Needs no
project, account or cluster: `--help` reads only the installed command tree. Exits 1 on any finding.
"""
import functools
import re
import shlex
import subprocess
import sys

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def shell_blocks(markdown):
    """The text of every ```sh block, with backslash-continued lines joined."""
    blocks = re.findall(r"^```sh\n(.*?)^```", markdown, flags=re.S | re.M)
    return [re.sub(r"\\\n\s*", " ", block) for block in blocks]


def substitutions(line):
    """The commands inside `$(...)` of a line (parentheses balanced, quotes respected), and the line with each
    replaced by one word."""
    inner, outer, i = [], [], 0
    while i < len(line):
        if line.startswith("$(", i):
            depth, j, quote = 1, i + 2, None
            while j < len(line) and depth:
                c = line[j]
                if quote:
                    quote = None if c == quote else quote
                elif c in "'\"":
                    quote = c
                elif c == "(":
                    depth += 1
                elif c == ")":
                    depth -= 1
                j += 1
            inner.append(line[i + 2:j - 1])
            outer.append("SUBST")
            i = j
        else:
            outer.append(line[i])
            i += 1
    return inner, "".join(outer)


def commands(block):
    """Every gcloud or kubectl invocation in a block, as a list of words (variables left unexpanded)."""
    found = []
    for line in block.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", line)  # a comment, not a '#' inside a word such as a URL fragment
        inner, line = substitutions(line)
        for command in inner:
            found += commands(command)
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words = []
        for token in list(lexer) + [";"]:
            if token in ("|", "||", "&&", ";", "&"):
                while words and (words[0] in ("do", "then", "else", "done", "fi")
                                 or re.match(r"[A-Za-z_]+=", words[0])):
                    words = words[1:]
                if words and words[0] in ("gcloud", "kubectl"):
                    found.append(words)
                words = []
            elif words and words[-1] in (">", ">>", "<"):
                words = words[:-1]  # a redirection and its file are no arguments
            else:
                words.append(token)
    return found


def run_help(argv):
    result = subprocess.run(argv + ["--help"], capture_output=True, text=True, timeout=120)
    return result.returncode, ANSI.sub("", result.stdout + result.stderr)


@functools.lru_cache(maxsize=None)
def gcloud_help(path):
    return run_help(["gcloud", *path])


@functools.lru_cache(maxsize=None)
def kubectl_help(path):
    return run_help(["kubectl", *path])


def positional_prefix(words):
    """The leading words that could name a command: up to the first flag or anything that is clearly a value."""
    path = []
    for word in words:
        if word.startswith("-") or not re.fullmatch(r"[a-z][a-z0-9-]*", word):
            break
        path.append(word)
    return path


def check_gcloud(words):
    candidates = positional_prefix(words[1:])
    code, text = gcloud_help(tuple(candidates))
    if code != 0:
        return [f"`gcloud {' '.join(candidates)}`: {text.strip().splitlines()[0] if text.strip() else 'fails'}"]
    # The NAME section says which command the words resolved to; the rest of them are its arguments.
    name = re.search(r"^NAME\n\s+(gcloud[^\n]*?) -", text, flags=re.M)
    resolved = name.group(1).split() if name else ["gcloud", *candidates]
    synopsis = re.search(r"^SYNOPSIS\n(.*?)\n\n", text, flags=re.S | re.M)
    if synopsis and re.match(rf"\s*{re.escape(' '.join(resolved))} (GROUP|COMMAND)\b", synopsis.group(1)):
        return [f"`{' '.join(resolved)}` is a group, not a command"]
    return [f"`{' '.join(resolved)}`: no flag {flag}" for flag in flags(words) if not gcloud_knows(text, flag)]


def gcloud_knows(text, flag):
    name = flag[2:] if flag.startswith("--") else None
    if name is None:
        return re.search(rf"(^|\s|,\s*){re.escape(flag)}\b", text, flags=re.M) is not None
    forms = {name}
    if name.startswith("no-"):
        forms.add(f"[no-]{name[3:]}")
    forms.add(f"[no-]{name}")
    return any(re.search(rf"--{re.escape(form)}(?![\w-])", text) for form in forms) or name in GCLOUD_WIDE


GCLOUD_WIDE = {"access-token-file", "account", "billing-project", "configuration", "flags-file", "flatten", "format",
               "help", "impersonate-service-account", "log-http", "project", "quiet", "trace-token", "user-output-enabled",
               "verbosity"}


def check_kubectl(words):
    path = []
    rest = words[1:]
    # Descend while the next word is a subcommand the current help lists; what follows is arguments.
    while rest and not rest[0].startswith("-"):
        _, text = kubectl_help(tuple(path))
        # The root lists its commands under headings of their own, a command under "Available Commands:".
        listed = re.findall(r"^\s{2}([a-z][a-z0-9-]*)\s{2,}", text.split("Available Commands:", 1)[-1], flags=re.M)
        if rest[0] not in listed:
            break
        path.append(rest.pop(0))
    if not path:
        return [f"`kubectl {' '.join(words[1:2])}`: no such command"]
    code, text = kubectl_help(tuple(path))
    if code != 0:
        return [f"`kubectl {' '.join(path)}`: help fails"]
    _, global_text = run_kubectl_options()
    known = text + global_text
    findings = []
    for flag in flags(words):
        pattern = rf"(^|\s){re.escape(flag)}[=,\s:]" if flag.startswith("--") else rf"(^|\s){re.escape(flag)},"
        if not re.search(pattern, known, flags=re.M):
            findings.append(f"`kubectl {' '.join(path)}`: no flag {flag}")
    return findings


@functools.lru_cache(maxsize=None)
def run_kubectl_options():
    result = subprocess.run(["kubectl", "options"], capture_output=True, text=True, timeout=60)
    return result.returncode, result.stdout


def flags(words):
    return [re.sub(r"=.*", "", w) for w in words if re.match(r"--?[a-zA-Z]", w)]


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "deploy/README.md"
    with open(path, encoding="utf-8") as f:
        blocks = shell_blocks(f.read())
    findings = []
    checked = 0
    for block in blocks:
        for words in commands(block):
            checked += 1
            found = check_gcloud(words) if words[0] == "gcloud" else check_kubectl(words)
            findings += [f"{path}: {finding}" for finding in found]
    for finding in findings:
        print(finding, file=sys.stderr)
    print(f"{checked} commands checked in {path}, {len(findings)} findings")
    return 1 if findings or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
