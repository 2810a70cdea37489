# The README's two set-up commands are `make run` and `make test`; both install what is missing first.
DEBIAN_PACKAGES := libseccomp-dev libpython3-dev libopenblas-dev pkg-config python3
SWIFT ?= swift
AZR := .build/release/azr

.PHONY: deps build run test bench clean

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

build: deps
	$(SWIFT) build -c release

# The main job. Until `azr train` lands (issue 4) it shows the sandbox at work: a real task checked in a
# confined child, a hostile program contained, and the throughput figures.
run: build
	$(AZR) sandbox run examples/sandbox/identity.py --call '"Hello world"' --expect '"Hello world"'
	@$(AZR) sandbox run examples/sandbox/fork_bomb.py --call '' || echo "(exit status $$?: the fork bomb was contained, as it should be)"
	$(AZR) sandbox bench --seconds 2

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --disable-swift-testing

bench: build
	@mkdir -p bench-results
	$(AZR) sandbox bench --output bench-results/sandbox.json | tee bench-results/sandbox.md
	$(AZR) bench tasks --output bench-results/tasks.json | tee bench-results/tasks.md

clean:
	rm -rf .build
