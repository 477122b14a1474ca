// alternance-hub's GraphiQL page script (EUPL-1.2, like the rest of the hub).
// Everything it needs is served by the gateway itself (see PROVENANCE.md): no CDN, so the page
// works offline and on a locked-down network. The page's Content-Security-Policy allows
// scripts from the gateway only, so this file is not inline.
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("hub-graphiql-config").textContent);
  const INTROSPECTION = "GraphiQLIntrospection";

  // The federation plumbing a router uses (`_entities`, `_service`, `_Any`, `_Entity`, the
  // `@key`/`@link` directives) is no part of the common syntax a partner developer reads: the
  // Docs panel and the autocompletion are given the schema without it. The endpoint still
  // answers those fields; only the introspection GraphiQL itself asks is filtered.
  function isPlumbingType(name) {
    return name.startsWith("_") && !name.startsWith("__");
  }

  function namedType(ref) {
    while (ref.ofType) ref = ref.ofType;
    return ref.name;
  }

  function withoutPlumbing(answer) {
    const schema = answer && answer.data && answer.data.__schema;
    if (!schema) return answer;
    const rootNames = new Set(
      [schema.queryType, schema.mutationType, schema.subscriptionType]
        .filter(Boolean)
        .map((root) => root.name),
    );
    const types = schema.types
      .filter((type) => !isPlumbingType(type.name))
      .map((type) =>
        rootNames.has(type.name) && type.fields
          ? { ...type, fields: type.fields.filter((field) => !field.name.startsWith("_")) }
          : type,
      );
    const known = new Set(types.map((type) => type.name));
    // A directive whose arguments name a type the schema does not hold (federation's own
    // scalars) would make GraphiQL refuse the whole schema.
    const directives = (schema.directives || []).filter((directive) =>
      directive.args.every((arg) => known.has(namedType(arg.type))),
    );
    return { ...answer, data: { __schema: { ...schema, types, directives } } };
  }

  // What GraphiQL keeps in localStorage (the query, variables, tabs, history), never a header:
  // a pasted `Authorization: Bearer <token>` must not outlive the tab. `shouldPersistHeaders:
  // false` keeps the headers editor and the tabs clean, but GraphiQL 4.1's history still
  // records each run's headers (`graphiql:queries`), so every write goes through here and
  // loses its `headers` fields first. What GraphiQL holds in memory for this page is its own.
  const NAMESPACE = "graphiql:";

  function withoutHeaders(key, value) {
    if (key === `${NAMESPACE}headers`) return "";
    let parsed;
    try {
      parsed = JSON.parse(value);
    } catch (error) {
      return value; // a query's text, say: no JSON, so no headers field
    }
    let dropped = false;
    const kept = JSON.stringify(parsed, (name, field) => {
      if (name !== "headers") return field;
      dropped = dropped || (field !== null && field !== undefined);
      return undefined;
    });
    return dropped ? kept : value;
  }

  const storage = {
    getItem: (key) => localStorage.getItem(key),
    setItem: (key, value) => localStorage.setItem(key, withoutHeaders(key, value)),
    removeItem: (key) => localStorage.removeItem(key),
    get length() {
      return Object.keys(localStorage).filter((key) => key.startsWith(NAMESPACE)).length;
    },
    clear() {
      for (const key of Object.keys(localStorage)) {
        if (key.startsWith(NAMESPACE)) localStorage.removeItem(key);
      }
    },
  };

  async function fetcher(params, options) {
    const response = await fetch(config.endpoint, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        accept: "application/json",
        "content-type": "application/json",
        ...((options && options.headers) || {}),
      },
      body: JSON.stringify(params),
    });
    const text = await response.text();
    let answer;
    try {
      answer = JSON.parse(text);
    } catch (error) {
      answer = { errors: [{ message: `HTTP ${response.status}: ${text.slice(0, 200)}` }] };
    }
    return params.operationName === INTROSPECTION ? withoutPlumbing(answer) : answer;
  }

  const root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: config.exampleQuery,
      introspectionQueryName: INTROSPECTION,
      inputValueDeprecation: true,
      // The headers panel is where a bearer token goes: shown open, never stored (`storage`
      // above), and no "Persist headers" switch in the settings (hidden when this is false).
      isHeadersEditorEnabled: true,
      defaultEditorToolsVisibility: "headers",
      shouldPersistHeaders: false,
      storage: storage,
    }),
  );
})();
