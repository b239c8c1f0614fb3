"""Adapters that make pg-session-manager the memory of agent frameworks, one module per framework.

Each module imports its framework, an optional extra of the package: ``pip install "session_manager[agent-squad]"``
(``agent_squad``), ``[langchain]`` (``langchain``), ``[openai-agents]`` (``openai_agents``). This package
imports none of them: the core client never needs a framework.
"""
