# The two set-up commands of README.md. Both create/refresh .venv first.
SHELL := /bin/bash
VENV := .venv
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export XDG_CACHE_HOME ?= $(CURDIR)/.snakemake/cache
export OMP_WAIT_POLICY ?= PASSIVE
CORES ?= all
PROFILE ?= default

.PHONY: pipeline extended test env lint report summary

env:
	@bash scripts/bootstrap.sh

## The whole default pipeline: every table in results/.
pipeline: env
	snakemake --cores $(CORES) --config profile=$(PROFILE)

## The extended scale (results/extended/): the headline systems trained 3x longer, on the default
## run's data, autoencoder and references (built first if missing).
extended: env
	snakemake all extended --cores $(CORES) --config profile=$(PROFILE)

## The test suite (includes the whole DAG on the `ci` profile, and the listening page in Chromium).
test: env
	@bash scripts/browser.sh
	OMP_NUM_THREADS=1 pytest -q

lint: env
	ruff check src tests benchmarks

## Offline report of the last run (figures and tables): report.zip. No --cores needed.
report: env
	snakemake --report report.zip

## Every output with its date, rule and status.
summary: env
	snakemake --summary
