"""The demo network of `make run` (manage.py seed_demo): the one app that knows every app it
seeds, and so sits above all of them. Each app's own demo data lives in its demo.py."""
