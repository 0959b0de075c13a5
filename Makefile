# Thin wrapper over CMake; see README.md.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
JOBS       ?= $(shell nproc)
CTEST_ARGS ?=

.PHONY: all build deps test asan-test fuzz demo bench package format clean

all: build

# Installs missing Debian packages when run as root; otherwise only reports.
deps:
	@if [ "$$(id -u)" = 0 ]; then packaging/install-deps.sh; \
	 else packaging/install-deps.sh || echo "warning: continuing without the missing packages"; fi

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j 2 $(CTEST_ARGS)

$(ASAN_BUILD)/CMakeCache.txt:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DPROXYHA_SANITIZE=ON

# The same tests under AddressSanitizer and UndefinedBehaviorSanitizer.
asan-test: deps $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j 2 -LE 'bench|selfcheck|lint|interop' $(CTEST_ARGS)

$(FUZZ_BUILD)/CMakeCache.txt:
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPROXYHA_FUZZ=ON

# Each libFuzzer target (tests/fuzz/) for FUZZ_SECONDS, one after the other;
# FUZZ_TARGETS="vrrp_advert ..." picks some. New inputs and crashes land in
# $(FUZZ_BUILD)/fuzz/, never in the committed corpora.
fuzz: deps $(FUZZ_BUILD)/CMakeCache.txt
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_targets
	tests/fuzz/run.sh $(FUZZ_BUILD)/bin $(FUZZ_SECONDS) $(FUZZ_BUILD)/fuzz $(FUZZ_TARGETS)

# The seed's three-node setup in network namespaces with a live view of
# failovers (root). KEEP=1 leaves the lab running; LOCAL=1 runs the small
# loopback demo of proxyd alone (no root needed).
demo: build
ifeq ($(LOCAL),1)
	examples/demo/local-demo.sh $(BUILD)/bin/proxyd
else
	python3 examples/demo/seed-demo.py $(if $(filter 1,$(KEEP)),--keep) $(BUILD)/bin/proxyd $(BUILD)/bin/vrrpd
endif

bench: build
	bench/run.sh $(BUILD)/bin/proxyd

# Debian packages: build/proxyd_VERSION-1_ARCH.deb and build/vrrpd_VERSION-1_ARCH.deb.
package: build
	cmake --build $(BUILD) --target package

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
