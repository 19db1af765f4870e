#!/usr/bin/env bash
# Mutation testing of the security-relevant code (issue 15) and of the sandbox, the consumer
# contract, the catalogue's templates and lint, and the plugin's logic (issue 21), then the score
# per module (tools/mutation_score.py; at least 90% each; equivalent mutants, with the reason,
# in tools/mutation_equivalent.txt).
#
#   bash tools/mutation.sh            # every target (see CONTRIBUTING.md for the time it takes)
#   bash tools/mutation.sh access     # one target: access emulator gateway egress live
#                                     # redactor snapshot client sandbox consumer catalogue plugin
#   bash tools/mutation.sh --recheck client   # test the survivors again (after adding tests)
#   MUTATION_CHILDREN=1 bash tools/mutation.sh sandbox   # one mutant at a time (a shared machine)
#
# mutmut (3.8) copies the package and the tests into mutants/ and runs, for each mutant, only the
# tests that call the mutated function (the tests in [tool.mutmut] of pyproject.toml). Tests that
# start another Python process (pytester's runpytest_subprocess, the gateway process) run the
# unmutated package in that process, so a mutant counts as killed only by what the test process
# itself sees: the score is a lower bound. Results are kept in mutants/ between runs; delete the
# folder to start over. `mutmut show <name>` prints a mutant's diff.
set -euo pipefail
cd "$(dirname "$0")/.."

python -c "import mutmut" 2>/dev/null || python -m pip install -q "mutmut>=3.8.1,<3.9"

declare -A PATTERNS=(
  [access]="refold_contract.access.*"
  [emulator]="refold_contract.mock.emulator.*"
  [gateway]="refold_contract._core.endpoint.x_place__* refold_contract._core.endpoint.xǁPlacedǁpath__* refold_contract.live.gateway.policy.x_judge__* refold_contract.live.gateway.core.xǁGatewayǁrespond__* refold_contract.live.gateway.core.xǁGatewayǁ_refuse__* refold_contract.live.gateway.core.xǁGatewayǁ_scrub_reply__* refold_contract.live.gateway.reply.x_envelope__*"
  [egress]="refold_contract._guard.egress.*"
  [live]="refold_contract.live.guard.* refold_contract.live.drift.* refold_contract.live.recorder.* refold_contract._core.files.*"
  [redactor]="refold_contract._core.json.xǁRedactorǁ*"
  [snapshot]="refold_contract.snapshot.x__prepare__* refold_contract.snapshot.x__secrets__* refold_contract.snapshot.x_register_secrets__* refold_contract.snapshot.xǁRefoldSnapshotExtensionǁserialize__*"
  [client]="refold_contract.client.protocol.xǁProtocolǁshould_retry__* refold_contract.client.protocol.xǁProtocolǁbuild__* refold_contract.client.protocol.xǁProtocolǁscrub__*"
  # The sandbox's logic (issue 21): the paging conventions, the operator table, id minting,
  # the list and search replies' paging, SOQL's WHERE. Left out for the run's time (about 30
  # mutants a minute on a shared two-core machine): the create/get/update/delete operations and
  # the filtered view (the state machines' laws check them on every run), the Salesforce query
  # locators and batches, and the SOQL tokenizer and parser (tests/test_sandbox.py).
  [sandbox]="refold_contract.sandbox.paging.* refold_contract.sandbox.matching.* refold_contract.sandbox.store.x_salesforce_id__* refold_contract.sandbox.store.x__base62__* refold_contract.sandbox.store.x_id_key__* refold_contract.sandbox.store.x_sort_id__* refold_contract.sandbox.store.xǁTableǁmint__* refold_contract.sandbox.operations.x__page_reply__* refold_contract.sandbox.operations.x__list__* refold_contract.sandbox.soql.xǁSOQLQueryǁmatches__* refold_contract.sandbox.soql.x__holds__* refold_contract.sandbox.soql.x__compare__*"
  # The consumer contract: verify and its findings, merging, the path syntax. Left out: the
  # commands' printing (verify_command, merge_command, the table) and the file reader.
  [consumer]="refold_contract.consumer.verification.x_verify__* refold_contract.consumer.verification.x_verify_reply__* refold_contract.consumer.verification.x__actions__* refold_contract.consumer.verification.x__example_findings__* refold_contract.consumer.verification.x__parameter_findings__* refold_contract.consumer.verification.x__status_findings__* refold_contract.consumer.verification.x__allowed__* refold_contract.consumer.verification.x__type_findings__* refold_contract.consumer.verification.x__shape_findings__* refold_contract.consumer.verification.x__navigate__* refold_contract.consumer.verification.x__ordered__* refold_contract.consumer.model.xǁPathReadǁmerge__* refold_contract.consumer.model.xǁStatusContractǁmerge__* refold_contract.consumer.model.xǁActionContractǁmerge__* refold_contract.consumer.model.x_merge_shapes__* refold_contract.consumer.model.x__union__* refold_contract.consumer.model.x_close_reads__* refold_contract.consumer.model.x__prune__* refold_contract.consumer.model.x__implied__* refold_contract.consumer._paths.*"
  # The catalogue's templates (placeholders meeting any value, falsy ones included) and lint.
  [catalogue]="refold_contract.catalogue.template.* refold_contract.catalogue.lint.*"
  # The plugin's in-process logic: the marker, the contract-suite selection, report scrubbing,
  # the session's URL helpers. Left out: the hooks and fixtures (a line or two each, handing
  # over to these) and what runs only in a live session (the gateway, custody, the live report).
  [plugin]="refold_contract._plugin.markers.* refold_contract._plugin.selection.* refold_contract._plugin.scrubbing.x__clean__* refold_contract._plugin.scrubbing.x__as_text__* refold_contract._plugin.scrubbing.x_scrub_report__* refold_contract._plugin.scrubbing.x_scrub_warning__* refold_contract._plugin.scrubbing.x_scrub_items__* refold_contract._plugin.session.x__address__* refold_contract._plugin.session.x__origin__* refold_contract._plugin.session.x_one_line__*"
)
ORDER=(access emulator gateway egress live redactor snapshot client sandbox consumer catalogue plugin)

recheck=0
if [ "${1:-}" = "--recheck" ]; then  # test the survivors again, e.g. after adding tests
  recheck=1
  shift
fi
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${ORDER[@]}")
names=()
for target in "${targets[@]}"; do
  [ -n "${PATTERNS[$target]+x}" ] || { echo "unknown target $target; known: ${ORDER[*]}" >&2; exit 2; }
  read -r -a more <<< "${PATTERNS[$target]}"
  names+=("${more[@]}")
done

mkdir -p mutants && echo '*' > mutants/.gitignore  # mutmut's work folder is never committed

if [ "$recheck" = 1 ]; then
  # mutmut keeps a verdict until the code changes; new tests alone do not reopen a survivor
  # (exit code 0) or a mutant no test reached (5, 33).
  python - "${names[@]}" <<'PY'
import fnmatch, json, pathlib, sys
for meta in pathlib.Path("mutants").rglob("*.py.meta"):
    data = json.loads(meta.read_text())
    codes = data["exit_code_by_key"]
    reopened = [k for k, v in codes.items() if v in (0, 5, 33) and any(fnmatch.fnmatchcase(k, p) for p in sys.argv[1:])]
    for key in reopened:
        codes[key] = None
    if reopened:
        meta.write_text(json.dumps(data))
        print(f"{meta}: {len(reopened)} survivor(s) to test again")
PY
fi

# A mutant that loops forever appending (a template's `i += 1` made `i = 1`) grows by a gigabyte a
# minute, long before mutmut's CPU-time limit stops it: cap each process's memory so it fails
# with MemoryError instead (a kill) and never starves the machine.
ulimit -v "${MUTATION_MEMORY_KB:-3000000}"

# One run for all the targets asked for: the stats pass (which tests call which function) is
# done once. mutmut's progress line is redrawn in place; keep only its final lines.
mutmut run --max-children "${MUTATION_CHILDREN:-2}" "${names[@]}" 2>&1 | tr '\r' '\n' | grep -v '^⠋\|^⠙\|^⠹\|^⠸\|^⠼\|^⠴\|^⠦\|^⠧\|^⠇\|^⠏' | tail -n 5
mutmut results --all=true 2>/dev/null | python tools/mutation_score.py
