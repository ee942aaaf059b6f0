# Shouhou: two commands. `make run` serves http://127.0.0.1:8000; `make test` runs the suite.
# Works on a machine with only python3, make and access to PyPI.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell $(PYTHON) -c 'import hashlib,sys;print(hashlib.sha256(open("requirements.lock","rb").read()).hexdigest()[:12])')
PO     := $(wildcard app/*/translations/*/LC_MESSAGES/messages.po)
MO     := $(PO:.po=.mo)
HOST   ?= 127.0.0.1
PORT   ?= 8000

# X-Forwarded-For is believed only from the proxies named in SHOUHOU_TRUSTED_PROXIES (issue #11);
# uvicorn's default would trust it from any loopback client.
PROXY_ARGS := $(if $(SHOUHOU_TRUSTED_PROXIES),--proxy-headers --forwarded-allow-ips $(SHOUHOU_TRUSTED_PROXIES),--no-proxy-headers)

.PHONY: run test bootstrap migrate seed messages bench clean

# uvloop + httptools (pinned in the lock): measured +49% on a list page over asyncio + h11 (issue #15).
SERVER_ARGS := --loop uvloop --http httptools

run: bootstrap migrate seed
	$(BIN)/python -m uvicorn app.main:create_app --factory --host $(HOST) --port $(PORT) $(SERVER_ARGS) $(PROXY_ARGS)

test: bootstrap
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bootstrap: $(STAMP) $(MO)

$(STAMP): requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q --upgrade pip
	$(BIN)/python -m pip install --disable-pip-version-check -q -r requirements.lock
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

# Catalogs are compiled by the build (the .mo files are not committed).
%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile -D messages -i $< -o $@

migrate: bootstrap
	$(BIN)/python -m app.core.manage migrate

seed: migrate
	$(BIN)/python -m seed

# Developers: after changing visible strings, refresh a catalog: make messages DOMAIN=parts (or core)
messages: bootstrap
	$(BIN)/python tools/i18n.py $(or $(DOMAIN),core)

bench: bootstrap
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var/*.db var/*.db-wal var/*.db-shm
