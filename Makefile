# `make run` and `make test` set everything up from a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CHROMIUM ?= /usr/bin/chromium
export DJANGO_SETTINGS_MODULE := otpsite.settings
# DJANGO_DEBUG defaults to false (production); the development targets ask for development mode explicitly.
run setup superuser test messages screenshots bench: export DJANGO_DEBUG := true

.PHONY: run test lint setup chromium nginx gettext messages country-names screenshots superuser deploy-check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0

run: setup
	@echo "Serving on http://127.0.0.1:8000 (codes are printed here unless Twilio is configured)"
	$(BIN)/gunicorn --config gunicorn.conf.py otpsite.wsgi

superuser: setup
	$(BIN)/python manage.py createsuperuser

# Browser tests drive Debian's Chromium; Playwright cannot download a browser here.
chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi
	@test -x "$(CHROMIUM)" || { echo "Chromium is missing at $(CHROMIUM)"; exit 1; }

# tests/topology runs Debian's nginx (and PostgreSQL and Redis) in network namespaces of its own, each with its own
# configuration and data folder: the service the package starts on port 80 is not needed, so it is stopped.
NGINX ?= /usr/sbin/nginx
nginx:
	@if [ ! -x "$(NGINX)" ]; then \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nginx >/dev/null; \
		$$SUDO systemctl disable --now nginx >/dev/null 2>&1 || $$SUDO service nginx stop >/dev/null 2>&1 || true; \
	fi
	@test -x "$(NGINX)" || { echo "nginx is missing at $(NGINX)"; exit 1; }

# Catalogs (.po and compiled .mo) are committed, so only `make messages` needs GNU gettext.
LOCALES := es fr de pt_BR
MAKEMESSAGES := makemessages $(addprefix --locale=,$(LOCALES)) --no-obsolete --add-location=file
# Folders with no code of the site's own; .venv also holds Django's catalogs, which compilemessages must leave alone.
NOT_SITE_CODE := --ignore=.venv --ignore=staticfiles --ignore=tests --ignore=docs --ignore=bench --ignore=examples

gettext:
	@if ! command -v msgfmt >/dev/null; then \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq gettext >/dev/null; \
	fi

# The app carries its own catalog (verification/locale) so it works without the site, and locale/ holds only the
# site's strings (templates/, otpsite/); a message id both use is in both. Run from inside the app, makemessages
# writes its catalog there (the folder must exist first, or it falls back to LOCALE_PATHS[0], the site's locale/).
# compilemessages then compiles both, as both are in LOCALE_PATHS.
messages: $(VENV)/.installed gettext
	mkdir -p verification/locale
	cd verification && $(abspath $(BIN))/python ../manage.py $(MAKEMESSAGES)
	$(BIN)/python manage.py $(MAKEMESSAGES) --ignore=verification $(NOT_SITE_CODE)
	$(BIN)/python manage.py compilemessages $(addprefix --locale=,$(LOCALES)) $(NOT_SITE_CODE)

# CLDR's country names for the site's languages, from Babel, into verification/country_names.json (see that module).
country-names: $(VENV)/.installed
	$(BIN)/python -m verification.country_names en $(LOCALES)

# Pictures of every page state for the README, taken in Chromium.
screenshots: $(VENV)/.installed-dev chromium
	$(BIN)/pytest tests/e2e/screenshots.py -q

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Production-like settings must pass Django's deployment checks with zero findings. Production must deliver SMS
# (a console backend there is an error), so the check runs with a Twilio configuration: well-formed, not real.
DEPLOY_CHECK_TWILIO := TWILIO_ACCOUNT_SID=AC00000000000000000000000000000000 \
	TWILIO_AUTH_TOKEN=not-a-real-token TWILIO_FROM_NUMBER=+15005550006
deploy-check: $(VENV)/.installed
	DJANGO_DEBUG=false DJANGO_SECRET_KEY="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	DJANGO_ALLOWED_HOSTS=verify.example.com DJANGO_CSRF_TRUSTED_ORIGINS=https://verify.example.com \
	$(DEPLOY_CHECK_TWILIO) $(BIN)/python manage.py check --deploy --fail-level WARNING

# Static files collected as production does (hashed names and their manifest, beside the plain names
# development uses), so tests that run the site with DJANGO_DEBUG=false find them whatever their order.
test: $(VENV)/.installed-dev chromium nginx lint deploy-check
	DJANGO_DEBUG=false DJANGO_SECRET_KEY=collectstatic-needs-no-secret \
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py check --fail-level WARNING
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest

# Load benchmark against two floors, bare Django and the site's own middleware (see BENCHMARKS.md): 4 to 6 minutes
# with the default 10 s per phase, plus two or three minutes the first time, to seed the million-number table it
# then reuses from .bench-cache/.
BENCH_SECONDS ?= 10
.PHONY: bench bench-dashboard bench-failover
bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench --seconds $(BENCH_SECONDS)

# The admin dashboard over a million audit events (about 3 minutes, most of it seeding): queries and time per window.
BENCH_EVENTS ?= 1000000
bench-dashboard: $(VENV)/.installed-dev
	$(BIN)/python -m bench.dashboard --events $(BENCH_EVENTS)

# The failover chain's cost when the primary works, and delivery through the secondary while it hangs (~30 s).
bench-failover: $(VENV)/.installed-dev
	$(BIN)/python -m bench.failover

clean:
	rm -rf $(VENV) staticfiles .pytest_cache test.sqlite3* .bench-cache .wheelhouse build dist *.egg-info
