"""Call routing for FreeSWITCH: the pure call-flow engine, time conditions, and the XML documents.

Inside FreeSWITCH (mod_python3) run ``runner``, ``engine``, ``adapter``, ``session_adapter``,
``conditions``, ``timeconditions``, ``dialstrings``, ``queue_members``, ``client`` and ``fax``:
they import neither Flask, SQLAlchemy, pydantic nor lxml, because the handler module is
re-imported on every call and what it pulls in must stay cheap.
The server side builds the answers: ``route`` (the JSON the handler walks), ``directory``,
``dialplan``, ``callcenter`` and ``documents`` (mod_xml_curl XML with lxml, checked against
``schemas/*.rng``), and ``service`` (reads the store).
"""
