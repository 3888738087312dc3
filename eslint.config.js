import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'drizzle/', 'dist/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    files: ['tests/**', 'bench/**', 'scripts/**'],
    rules: { 'no-console': 'off' },
  },
  {
    // The layering of DESIGN.md §2: domain/ knows no HTTP or GraphQL; rest/ and graphql/ never import each other.
    files: ['src/domain/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['fastify', 'mercurius', 'graphql', '**/rest/**', '**/graphql/**', '**/http/**'] }] },
  },
  {
    files: ['src/rest/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/graphql/**', 'mercurius'] }] },
  },
  {
    files: ['src/graphql/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/rest/**'] }] },
  },
)
