#!/usr/bin/env node
// The `tenant-gateway` command of package.json "bin" (npx tenant-gateway <command>): the sources
// are TypeScript run directly, so register tsx's loader before loading the CLI.
import { register } from 'tsx/esm/api'

register()
await import('../src/cli.ts')
