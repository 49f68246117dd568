"""Offline stand-in for the get-pip bootstrap script that ansible-test downloads.

ansible-test runs this file as __main__ with pip's install options and the packages
to install. It installs them with pip itself, imported from the pip wheel that
`make` downloaded from PyPI next to this file.
"""
import glob
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    wheels = sorted(glob.glob(os.path.join(HERE, 'pip-*-py3-none-any.whl')))
    if not wheels:
        sys.exit('pip wheel missing in %s: run `make venv` again' % HERE)
    sys.path.insert(0, wheels[-1])
    from pip._internal.cli.main import main as pip_main  # pylint: disable=import-outside-toplevel

    args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]
    sys.exit(pip_main(['install', '--upgrade', '--force-reinstall'] + args))


if __name__ == '__main__':
    main()
