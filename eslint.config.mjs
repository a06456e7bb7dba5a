// ESLint for the browser scripts in mapapp/web/static (`npm run lint:js`, part of `make test`).
// They are plain scripts loaded by <script> tags, no bundler: each adds one name to the
// window.mapapp namespace; Leaflet (L) and its markercluster plugin are loaded before them.
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    files: ["mapapp/web/static/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "script",
      globals: {...globals.browser, L: "readonly", mapapp: "readonly"},
    },
    rules: {
      "no-undef": "error",
    },
  },
];
