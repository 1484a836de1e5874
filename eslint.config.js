import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'public/data/', '.cache/', 'test-results/', 'playwright-report/', 'node_modules/'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    files: ['**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser, ...globals.worker, ...globals.node } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      '@typescript-eslint/no-explicit-any': 'error',
      // Typed arrays are indexed in hot loops with bounds known from the layout; `!` there is deliberate.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // `typeof import('x')` is how vi.mock types the original module.
      '@typescript-eslint/consistent-type-imports': ['error', { disallowTypeAnnotations: false }],
      'no-console': 'off',
    },
  },
  {
    // The fence (docs/design.md, issue 10): the UI and its stores reach the engine only through the Worker
    // protocol (types) and the tfjs-free contract folder src/engine/config/; everything else runs in the Worker.
    // Tests may import the engine to check the two sides agree.
    files: ['src/ui/**/*.{ts,tsx}', 'src/store/**/*.{ts,tsx}'],
    ignores: ['**/*.test.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)engine(/(?!config/)|$)',
              message:
                'The UI and the store import from the engine only src/engine/config/ (tfjs-free); ask the Worker through src/worker/protocol.ts for the rest.',
            },
            {
              regex: '(^|/)worker/(?!protocol$)',
              message: 'The UI and the store talk to the Worker only through src/worker/protocol.ts.',
            },
            {
              regex: '^@tensorflow/',
              message: 'tfjs runs in the engine Worker only; the UI bundle holds none.',
            },
          ],
        },
      ],
    },
  },
  {
    // The protocol is the UI's door to the engine: from the engine it takes types only (or the contract
    // folder's plain values), so nothing of the engine's code reaches the UI bundle through it.
    files: ['src/worker/protocol.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)engine(/(?!config/)|$)',
              allowTypeImports: true,
              message:
                'src/worker/protocol.ts takes only types from the engine (`import type`), or values from src/engine/config/.',
            },
            {
              regex: '^@tensorflow/',
              allowTypeImports: true,
              message: 'The protocol takes only types from tfjs.',
            },
          ],
        },
      ],
    },
  },
  {
    // The engine runs in the Worker and in Node: browser storage belongs to its hosts (src/worker/,
    // src/store/history/), which hand it interfaces such as RunSlots.
    files: ['src/engine/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'idb', message: 'Browser storage lives in src/worker/ or src/store/, not the engine.' },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        ...['indexedDB', 'localStorage', 'sessionStorage'].map((name) => ({
          name,
          message: 'Browser storage lives in src/worker/ or src/store/, not the engine.',
        })),
      ],
    },
  },
  {
    // The contract folder stays tfjs-free and self-contained, so the UI may import it whole.
    files: ['src/engine/config/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^@tensorflow/', message: 'src/engine/config/ is tfjs-free: the UI bundle imports it.' },
            {
              regex: '^idb$',
              message: 'Browser storage lives in src/worker/ or src/store/, not the engine.',
            },
            {
              regex: '^\\.\\./',
              message: 'src/engine/config/ imports only its own files and plain libraries (zod, seedrandom).',
            },
          ],
        },
      ],
    },
  },
);
