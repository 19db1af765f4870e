"""The pytest plugin's machinery; its entry point, with options and fixtures, is
:mod:`refold_contract.plugin`.

Example::

    from refold_contract._plugin.session import refold_session
    refold_session(pytestconfig).catalogue
"""
