// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', 'fixtures/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'simple-git', message: 'Only src/git/ may import simple-git.' },
            { name: 'openpgp', message: 'Only src/pgp/ may import openpgp.' },
            { name: 'node-vault', message: 'Only src/vault/ may import node-vault.' },
            { name: 'dockerode', message: 'Only src/runner/ may import dockerode.' },
            { name: 'node-cron', message: 'Only src/scheduler/ may import node-cron.' },
          ],
        },
      ],
    },
  },
  { files: ['src/git/**'], rules: { 'no-restricted-imports': 'off' } },
  { files: ['src/pgp/**'], rules: { 'no-restricted-imports': 'off' } },
  { files: ['src/vault/**'], rules: { 'no-restricted-imports': 'off' } },
  { files: ['src/runner/**'], rules: { 'no-restricted-imports': 'off' } },
  { files: ['src/scheduler/**'], rules: { 'no-restricted-imports': 'off' } },
  { files: ['test/**', 'scripts/**'], rules: { 'no-restricted-imports': 'off' } },
);
