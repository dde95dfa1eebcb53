"""Email rendering: templates compiled once per version, rendered per recipient.

``nurture.rendering.library`` is the entry point (the compile cache, validation, render);
the context contract is ``nurture.rendering.context``. Compiling one version of a template is
the slow path (milliseconds); what comes out is three ordinary Jinja templates (subject,
HTML, text) that render per recipient in microseconds.

The compile pipeline, and why it has this shape:

1. Every source file is split into text and Jinja tags (``segments.lex``). Layout inheritance
   (``{% extends %}`` / ``{% block %}`` / ``{{ super() }}``) and ``{% include %}`` are resolved
   on those pieces (``layouts``), *before* MJML runs: the MJML compiler must see one whole
   document (a layout alone has no content, a child alone has no ``<mjml>``), while the
   per-recipient tags (``{{ lead.first_name }}``, ``{% if account %}``) must survive untouched
   until send time. Resolving inheritance ourselves does both; a compile-time Jinja pass could
   not tell the two kinds of tag apart. ``sources`` reads the files and hashes the version.
2. Each remaining Jinja tag is replaced by an opaque placeholder (``placeholders``), so the
   MJML compiler (an HTML parser underneath) never sees quotes, ``<`` or ``%`` inside an
   expression, and an expression in ``href="{{ … }}"`` comes out exactly as it went in. A tag
   that stands between MJML elements (e.g. ``{% if account %}`` between two ``<mj-section>``)
   is wrapped in ``<mj-raw>``: the compiler drops bare text there, but keeps ``mj-raw`` where
   it stands (``mjml_compile``).
3. Before the compiler runs, the document is read as its HTML parser will read it
   (``mjml_check``): unknown elements, tags never closed, elements in the wrong parent,
   unknown attributes, text MJML would drop, and what the compiler cannot take twice are
   reported at the template file and line they stand on (the layout's or partial's own).
   The compiler itself names no place.
4. MJML compiles the document; every placeholder must come out exactly once (statements) or
   at least once (expressions), otherwise the template is reported as broken.
5. The plain-text part, when there is no ``body.txt``, is derived from this compiled HTML by
   html2text *with the placeholders still in it* (``text_part``), so the text part is itself
   a Jinja template and html2text runs once per version, not once per recipient.
6. Placeholders are put back; the three sources are compiled by a sandboxed Jinja
   (``environment``) into a ``compiled.CompiledTemplate``.
7. The sending engine renders a batch with the template specialised to its sender
   (``CompiledTemplate.for_sender``, ``specialise``): the brand's values, the same in every
   email, are folded into the constant text once, so a render prints only the recipient's.
"""
