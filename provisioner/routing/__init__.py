"""Call routing for FreeSWITCH: the pure call-flow engine, time conditions, and the XML documents.

Modules FreeSWITCH imports inside its embedded interpreter (``engine``, ``timeconditions``,
``session_adapter``, ``client``) import neither Flask, SQLAlchemy nor pydantic: the handler
module is re-imported on every call, so what it pulls in must stay cheap.
"""
