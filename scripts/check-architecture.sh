#!/usr/bin/env bash
# Checks the architecture rules of docs/architecture.md on a source tree; exits 1 naming every
# violation, 0 when there is none. CTest runs it as `architecture_rules` (and its own self-test
# as `architecture_rules_selftest`).
#
#   scripts/check-architecture.sh [ROOT]     # ROOT: the repository (default: this script's parent)
#   scripts/check-architecture.sh --self-test
#
# Rules:
#   1. no .cpp/.h file in core/ or ui/ is over 500 lines;
#   2. core/ includes no Qt Gui / Widgets header (nor Charts, Svg, OpenGL, PrintSupport);
#   3. no core header that ui/ includes (directly or through other core headers) mentions
#      torch::, c10::, at::, xt:: or includes LibTorch / xtensor;
#   4. the rooms include only what they may (docs/architecture.md, "Rooms"):
#        base        base
#        checkpoint  base, checkpoint
#        mapping     base, checkpoint, mapping; and tensor/tensorengine.h from conversionplan.cpp only
#        tensor      base, checkpoint, tensor; and mapping/transform.h (the transform algebra) only
#        diff        any room
#      LibTorch (<torch/...>, <ATen/...>, <c10/...>) only in core/tensor/torch/.
set -u

MAX_LINES=500

# Qt headers that belong to the GUI modules. Taken from the installed Qt when it is found, plus a
# list of the usual suspects for machines where it is not.
gui_header_names() {
    local dirs=()
    [[ -n "${GRAFT_QT_HEADERS:-}" ]] && dirs+=("$GRAFT_QT_HEADERS")
    dirs+=(/usr/include/x86_64-linux-gnu/qt6 /usr/include/aarch64-linux-gnu/qt6 /usr/include/qt6 /usr/local/include/qt6)
    local dir module
    for dir in "${dirs[@]}"; do
        [[ -d "$dir/QtGui" ]] || continue
        for module in QtGui QtWidgets QtCharts QtSvg QtSvgWidgets QtOpenGL QtOpenGLWidgets QtPrintSupport; do
            [[ -d "$dir/$module" ]] && ls "$dir/$module"
        done
        break
    done
    printf '%s\n' QWidget QApplication QGuiApplication QMainWindow QDialog QColor QImage QPixmap QPainter QIcon \
        QFont QPalette QBrush QPen QAction QUndoStack QUndoCommand QStandardItemModel QTreeView QLabel
}

# check ROOT: prints violations, returns 1 when there are any.
check() {
    local root=$1
    local failed=0
    fail() { echo "architecture: $*"; failed=1; }

    if [[ ! -d "$root/core" || ! -d "$root/ui" ]]; then
        echo "architecture: $root has no core/ and ui/"
        return 1
    fi
    cd "$root" || return 1

    # 1. File length.
    local file lines
    while IFS= read -r file; do
        lines=$(wc -l < "$file")
        ((lines > MAX_LINES)) && fail "$file has $lines lines (at most $MAX_LINES): split it by seam"
    done < <(find core ui -type f \( -name '*.cpp' -o -name '*.h' \) | sort)

    # 2. No GUI modules in core.
    local gui
    gui=$(gui_header_names | sort -u)
    local line header base
    while IFS= read -r line; do
        file=${line%%:*}
        header=$(sed -E 's/^[^<]*<([^>]+)>.*/\1/' <<< "${line#*:}")
        base=${header##*/}
        if [[ $header =~ ^Qt(Gui|Widgets|Charts|Svg|SvgWidgets|OpenGL|OpenGLWidgets|PrintSupport)(/|$) ]] \
            || grep -qxF "$base" <<< "$gui"; then
            fail "$file includes <$header>, a Qt GUI header: core/ is widget-free"
        fi
    done < <(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<' core --include='*.cpp' --include='*.h' | cut -d: -f1,3-)

    # 3. Headers ui/ sees from core mention no torch or xtensor types.
    local -A seen=()
    local queue=() next
    while IFS= read -r header; do
        [[ -f "core/$header" ]] && queue+=("$header")
    done < <(grep -rhoE '#[[:space:]]*include[[:space:]]*"[^"]+"' ui | sed -E 's/.*"([^"]+)".*/\1/' | sort -u)
    while ((${#queue[@]} > 0)); do
        next=${queue[0]}
        queue=("${queue[@]:1}")
        [[ -n "${seen[$next]:-}" ]] && continue
        seen[$next]=1
        while IFS= read -r header; do
            [[ -f "core/$header" && -z "${seen[$header]:-}" ]] && queue+=("$header")
        done < <(grep -hoE '#[[:space:]]*include[[:space:]]*"[^"]+"' "core/$next" | sed -E 's/.*"([^"]+)".*/\1/')
    done
    for header in "${!seen[@]}"; do
        # Comments may name them (a header explaining why it has no torch types); code may not.
        if sed -E 's://.*$::' "core/$header" | grep -qE '\b(torch|c10|at|xt)::|#[[:space:]]*include[[:space:]]*<(torch|ATen|c10|xtensor)/'; then
            fail "core/$header is included by ui/ and mentions LibTorch or xtensor: keep those types in adapter .cpp files"
        fi
    done

    # 4. Rooms.
    local room target allowed
    while IFS= read -r line; do
        file=${line%%:*}
        header=$(sed -E 's/.*"([^"]+)".*/\1/' <<< "${line#*:}")
        room=$(cut -d/ -f2 <<< "$file")
        target=${header%%/*}
        [[ $header == */* ]] || continue           # generated (naming_json.h) or same-folder
        [[ -d "core/$target" ]] || continue        # not a room (a third-party or generated path)
        case $room in
            base) allowed="base" ;;
            checkpoint) allowed="base checkpoint" ;;
            mapping) allowed="base checkpoint mapping" ;;
            tensor) allowed="base checkpoint tensor" ;;
            *) continue ;;
        esac
        if [[ " $allowed " == *" $target "* ]]; then
            continue
        fi
        if [[ $room == tensor && $header == mapping/transform.h ]] \
            || [[ $file == core/mapping/conversionplan.cpp && $header == tensor/tensorengine.h ]]; then
            continue
        fi
        fail "$file includes \"$header\": the $room room may include only: $allowed (docs/architecture.md)"
    done < <(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' core --include='*.cpp' --include='*.h' | cut -d: -f1,3-)
    while IFS= read -r file; do
        [[ $file == core/tensor/torch/* ]] || fail "$file includes LibTorch: only core/tensor/torch/ may (it costs 5-13 s per file)"
    done < <(grep -rlE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<(torch|ATen|c10)/' core --include='*.cpp' --include='*.h')

    return $failed
}

# Builds small trees, one per kind of violation, and expects check() to refuse each one and to
# accept the clean one: the rules can fail.
self_test() {
    local scratch
    scratch=$(mktemp -d) || return 1
    trap 'rm -rf "$scratch"' RETURN
    local ok=0
    make_clean_tree() {
        rm -rf "$1"
        mkdir -p "$1"/core/{base,checkpoint,mapping,tensor/torch,diff} "$1"/ui
        printf '#pragma once\n#include <QString>\n' > "$1/core/base/result.h"
        printf '#pragma once\n#include "base/result.h"\n' > "$1/core/checkpoint/checkpoint.h"
        printf '#pragma once\n#include "checkpoint/checkpoint.h"\n' > "$1/core/mapping/transform.h"
        printf '#pragma once\n#include "mapping/transform.h"\n// no torch:: types here\n' > "$1/core/tensor/tensorengine.h"
        printf '#include "tensor/tensorengine.h"\n' > "$1/core/mapping/conversionplan.cpp"
        printf '#include "tensor/tensorengine.h"\n#include <torch/torch.h>\ntorch::Tensor t;\n' > "$1/core/tensor/torch/torchengine.cpp"
        printf '#include "mapping/transform.h"\n#include "tensor/tensorengine.h"\n' > "$1/core/diff/checkpointdiff.cpp"
        printf '#include "tensor/tensorengine.h"\n#include <QWidget>\n' > "$1/ui/window.cpp"
    }
    expect() { # expect pass|fail NAME
        local want=$1 name=$2 output
        output=$(check "$scratch/tree" 2>&1)
        local got=$?
        if [[ $want == pass && $got -ne 0 ]] || [[ $want == fail && $got -eq 0 ]]; then
            echo "self-test: $name: expected $want, got exit $got"
            echo "$output"
            ok=1
        else
            echo "self-test: $name: $want as expected${output:+ ($(head -1 <<< "$output"))}"
        fi
    }
    make_clean_tree "$scratch/tree"; expect pass "clean tree"
    make_clean_tree "$scratch/tree"; seq 501 > "$scratch/tree/ui/long.cpp"; expect fail "ui file of 501 lines"
    make_clean_tree "$scratch/tree"; seq 501 > "$scratch/tree/core/mapping/long.h"; expect fail "core file of 501 lines"
    make_clean_tree "$scratch/tree"; seq 500 > "$scratch/tree/core/mapping/long.h"; expect pass "core file of 500 lines"
    make_clean_tree "$scratch/tree"; echo '#include <QImage>' >> "$scratch/tree/core/tensor/tensorengine.h"; expect fail "core includes <QImage>"
    make_clean_tree "$scratch/tree"; echo '#include <QtWidgets/QTreeView>' >> "$scratch/tree/core/diff/checkpointdiff.cpp"; expect fail "core includes <QtWidgets/QTreeView>"
    make_clean_tree "$scratch/tree"; echo 'torch::Tensor apply();' >> "$scratch/tree/core/checkpoint/checkpoint.h"; expect fail "header ui/ reaches mentions torch::"
    make_clean_tree "$scratch/tree"; echo '#include <xtensor/xarray.hpp>' >> "$scratch/tree/core/tensor/tensorengine.h"; expect fail "header ui/ reaches includes xtensor"
    make_clean_tree "$scratch/tree"; echo '#include "checkpoint/checkpoint.h"' >> "$scratch/tree/core/base/result.h"; expect fail "base includes checkpoint"
    make_clean_tree "$scratch/tree"; echo '#include "mapping/transform.h"' >> "$scratch/tree/core/checkpoint/checkpoint.h"; expect fail "checkpoint includes mapping"
    make_clean_tree "$scratch/tree"; printf '#include "tensor/tensorengine.h"\n' > "$scratch/tree/core/mapping/automatcher.cpp"; expect fail "mapping includes tensor outside conversionplan.cpp"
    make_clean_tree "$scratch/tree"; printf '#include "diff/checkpointdiff.h"\n' > "$scratch/tree/core/tensor/stats.cpp"; expect fail "tensor includes diff"
    make_clean_tree "$scratch/tree"; printf '#include <ATen/ATen.h>\n' > "$scratch/tree/core/tensor/stats.cpp"; expect fail "LibTorch outside tensor/torch"
    return $ok
}

if [[ ${1:-} == --self-test ]]; then
    self_test
    exit $?
fi
root=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
if check "$root"; then
    echo "architecture: $root follows the rules (files <= $MAX_LINES lines, widget-free core, no torch/xtensor types in headers ui/ sees, rooms)"
    exit 0
fi
exit 1
