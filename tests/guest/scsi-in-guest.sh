# tests/guest/scsi-in-guest.sh -- the guest half of scsi-guest.sh (busybox sh).
#
# Runs inside the guest as /test.sh and exercises the LUNs of a
# vhost-user-scsi controller (target 0): LUN 0 and LUN 1 read-write, LUN 2
# read-only.  Every check prints "@@ ok NAME" or "@@ not ok NAME" (see
# guest-functions.sh); scsi-guest.sh on the host lists the same names and
# checks the image files after power-off.  SCSI data is read with the sg3-utils
# --raw options and decoded here, so no check depends on how a given
# sg3-utils version words its output (sense texts excepted: sg_raw prints
# them through the sg3-utils sense tables, which are stable).
#
# PHASE=full (default): every check.  PHASE=ident: a second boot on a
# restarted back-end: the NAA designators must be those of the first boot
# (NAA0, NAA1) and the patterns still readable; with QOS_IOPS, LUN 2 has a
# QoS limit from the start, which the guest's reads must not exceed by more
# than 10%, until the host removes it.
#
# Variables from /test.env (set by scsi-guest.sh):
#   BYTES0 BYTES1 BYTES2  LUN sizes in bytes   BS0 BS1 BS2  logical block sizes
#   SERIAL0               serial number given for LUN 0
#   CACHE0                cache mode of LUN 0 (writeback)
#   EXPECT_HWQ VCPUS AIO  request queues the guest should use, vCPUs, fio engine
#   FIO_MB FIO_SEED FIO_STALL_SECS   fio region per LUN, seed, stall limit
#   PAT_OFF PAT_LEN       where /data/pattern-lunN goes on LUN N (0 and 1)
#   UNMAP_OFF/LEN WSU_OFF/LEN WSZ_OFF/LEN WSP_OFF/LEN DISC_OFF/LEN
#                         ranges for UNMAP, WRITE SAME(16) UNMAP, WRITE
#                         SAME(10) of zeros, WRITE SAME(16) of
#                         /data/wsblock, and blkdiscard (pre-filled, non-zero)
#   FS_MB                 ext4 at the start of LUN 0
#   RST_OFF RST_MB PROBE_OFF  fio region during the resets, and the offset of
#                         the 4 KiB probe written after them (LUN 0)
#   QOS_IOPS QOS_FLAG_OFF NONCE  PHASE=ident: LUN 2's total_iops_sec, where
#                         on LUN 0 the host writes "qos lifted NONCE" once
#                         it has removed that limit
# Files: /data/pattern-lun0, /data/pattern-lun1, /data/wsblock, /data/ro-head
# (the first 64 KiB of LUN 2), /data/probe, /data/files/*, /data/SHA256SUMS.

# The LUN variables (dev0, sg0, ...) are assigned through eval; the
# capitalised ones come from /test.env.
# shellcheck disable=SC2154,SC2153,SC2012,SC1091
. /guest-functions.sh

MiB=1048576
PHASE=${PHASE:-full}
t_start=$(g_uptime)
g_diag "test ($PHASE) started ${t_start}s after the kernel booted"

# ------------------------------------------------------------ helpers
# lun_dir N: the sysfs directory of LUN N on target 0 (any host, channel 0).
lun_dir() {
    for _d in /sys/bus/scsi/devices/*:0:0:"$1"; do
        [ -d "$_d" ] && { echo "$_d"; return 0; }
    done
    return 1
}

# bytes FILE: the file's bytes as decimal numbers, one line, blank separated.
bytes() {
    od -An -v -tu1 "$1" | tr -s ' \n' '  '
}

# byte FILE OFF: one byte of FILE as a decimal number (empty past the end).
byte() {
    od -An -v -tu1 -j "$2" -N 1 "$1" | tr -d ' \n'
}

# be FILE OFF LEN: big-endian number of LEN bytes at OFF (0 past the end).
be() {
    _h=$(od -An -v -tx1 -j "$2" -N "$3" "$1" | tr -d ' \n')
    echo $((0x${_h:-0}))
}

# text FILE OFF LEN: LEN bytes of FILE at OFF as text, blanks trimmed.
text() {
    dd if="$1" bs=1 skip="$2" count="$3" 2>/dev/null | tr -d '\000' |
        sed 's/^ *//; s/ *$//'
}

# printable FILE OFF LEN: every byte of the range is printable ASCII.
printable() {
    od -An -v -tu1 -j "$2" -N "$3" "$1" |
        awk '{ for (i = 1; i <= NF; i++) if ($i < 32 || $i > 126) bad = 1 } END { exit bad }'
}

# run OUT CMD...: run CMD with its stdout in OUT and stderr in OUT.err;
# returns CMD's status.
run() {
    _o=$1; shift
    "$@" > "$_o" 2> "$_o.err"
}

# err OUT: CMD's messages for a diagnostic, on one line.
err() {
    tr '\n' ' ' < "$1.err" | cut -c1-300
}

# zero_bytes DEV OFF LEN: zero bytes in the range, read with O_DIRECT.
# OFF and LEN are MiB-aligned.
zero_bytes() {
    dd if="$1" bs=$MiB skip=$(($2 / MiB)) count=$(($3 / MiB)) iflag=direct 2>/dev/null |
        tr -cd '\000' | wc -c
}

# wait_file PATH SECS: wait (bounded) until PATH exists.
wait_file() {
    _i=0
    while [ ! -e "$1" ] && [ "$_i" -lt $(($2 * 10)) ]; do
        sleep 0.1
        _i=$((_i + 1))
    done
    [ -e "$1" ]
}

# ------------------------------------------------------ find the LUNs
# dev0..2: block devices (/dev/sdX), sg0..2: SCSI generic devices,
# sd0..2: sysfs directories.
found=0
for l in 0 1 2; do
    d=$(lun_dir $l) || { g_diag "LUN $l: no /sys/bus/scsi/devices/*:0:0:$l"; continue; }
    b=$(ls "$d/block" 2>/dev/null | head -n 1)
    s=$(ls "$d/scsi_generic" 2>/dev/null | head -n 1)
    if [ -z "$b" ] || [ -z "$s" ] || ! wait_file "/dev/$b" 10 || ! wait_file "/dev/$s" 10; then
        g_diag "LUN $l: block '$b', sg '$s': device nodes missing"
        continue
    fi
    eval "sd$l=\$d dev$l=/dev/\$b sg$l=/dev/\$s"
    g_diag "LUN $l: $d, /dev/$b, /dev/$s, vendor '$(cat "$d/vendor")' model '$(cat "$d/model")'"
    found=$((found + 1))
done
g_diag "SCSI devices: $(ls /sys/bus/scsi/devices | tr '\n' ' ')"
if [ "$found" -ne 3 ]; then
    g_not_ok luns-found "found $found of LUNs 0, 1, 2 with block and sg devices"
    dmesg | grep -iE 'scsi|sd[a-z]|virtio' | tail -n 40
    g_finish
fi
g_ok luns-found "LUN 0 $dev0 $sg0, LUN 1 $dev1 $sg1, LUN 2 $dev2 $sg2"

# naa_of SG: the LU's NAA designator from VPD page 0x83, as hex (empty
# when there is none, or the page cannot be read).
naa_of() {
    run /tmp/naa.bin sg_vpd --page=0x83 --raw "$1" || return 0
    bytes /tmp/naa.bin | awk '{
        n = split($0, b, " ")
        if (b[2] != 131) exit
        end = 4 + b[3] * 256 + b[4]
        if (end > n) end = n
        for (p = 4; p + 4 <= end; p += 4 + b[p + 4]) {
            type = b[p + 2] % 16; assoc = int(b[p + 2] / 16) % 4; len = b[p + 4]
            if (type == 3 && assoc == 0 && p + 4 + len <= end) {
                s = ""
                for (i = 1; i <= len; i++) s = s sprintf("%02x", b[p + 4 + i])
                print s
                exit
            }
        }
    }'
}

# qos_lun: LUN 2 serves with total_iops_sec=QOS_IOPS (its --lun item) and
# LUN 0 with no limit.  Random reads at depth 16 on LUN 2, with LUN 0 read
# at the same time, must see at most 10% more IOPS than the limit.  After
# mark qos-measured the host removes the limit with vhost-uring-ctl and
# writes "qos lifted NONCE" at QOS_FLAG_OFF of LUN 0; LUN 2 must then read
# back its data.
qos_lun() {
    fio --name=lun0 --filename="$dev0" --direct=1 --ioengine="$AIO" --rw=randread \
        --bs=4k --iodepth=16 --size=64M --time_based --runtime=4 \
        --output-format=terse --terse-version=3 > /tmp/fio-lun0.out 2>&1 &
    lun0_pid=$!
    g_iops_at_most qos-lun-limit-holds "$QOS_IOPS" 4 --filename="$dev2" --readonly \
        --ioengine="$AIO" --iodepth=16
    wait "$lun0_pid"
    g_diag "LUN 0 (no limit), read at the same time: $(awk -F';' 'NF > 8 { print $8; exit }' /tmp/fio-lun0.out) IOPS"
    g_diag "mark qos-measured"
    if ! g_wait_for 120 g_read_has "$dev0" "$QOS_FLAG_OFF" "qos lifted $NONCE"; then
        g_not_ok qos-lun-after-lift "the host's word 'qos lifted' did not come within 120 s"
    elif dd if="$dev2" bs=65536 count=1 iflag=direct 2>/dev/null | cmp -s - /data/ro-head; then
        g_ok qos-lun-after-lift "LUN 2 reads back its first 64 KiB once its limit is removed"
    else
        g_not_ok qos-lun-after-lift "LUN 2's first 64 KiB differ from the image's once its limit is removed"
    fi
}

if [ "$PHASE" = ident ]; then
    # ------------------------------------- second boot: stable identity
    a=$(naa_of "$sg0"); b=$(naa_of "$sg1")
    g_diag "naa lun0=$a lun1=$b (first boot: lun0=$NAA0 lun1=$NAA1)"
    if [ -n "$a" ] && [ "$a" = "$NAA0" ] && [ -n "$b" ] && [ "$b" = "$NAA1" ]; then
        g_ok naa-stable "both LUNs kept their NAA designator across the back-end restart"
    else
        g_not_ok naa-stable "NAA designators now lun0=${a:-none} lun1=${b:-none}, first boot lun0=${NAA0:-none} lun1=${NAA1:-none}"
    fi
    rc=0
    for l in 0 1; do
        eval "dv=\$dev$l"
        dd if="$dv" bs="$PAT_LEN" count=1 skip="$PAT_OFF" iflag=direct,skip_bytes 2>/dev/null |
            cmp -s - "/data/pattern-lun$l" || { rc=1; g_diag "LUN $l: pattern differs"; }
    done
    g_result data-after-restart "$rc" "the patterns of the first boot read back on both LUNs"
    # The host grows LUN 1's image and sends the back-end SIGHUP: its
    # PARAM_CHANGE event (and unit attention) must make Linux read the
    # new capacity by itself.
    n1=${dev1#/dev/}
    before=$(cat "/sys/block/$n1/size")
    g_diag "mark grow"
    i=0
    while [ "$i" -lt 120 ] && [ "$(cat "/sys/block/$n1/size")" = "$before" ]; do
        sleep 0.5
        i=$((i + 1))
    done
    after=$(cat "/sys/block/$n1/size")
    if [ "$after" -eq "$GROWN_SECTORS" ]; then
        g_ok capacity-change "LUN 1 went from $before to $after sectors after the back-end's rescan"
    else
        g_not_ok capacity-change "LUN 1 has $after sectors (was $before), expected $GROWN_SECTORS within 60 s of the rescan"
    fi
    if [ -n "${QOS_IOPS:-}" ]; then
        qos_lun
    fi
    g_finish
fi

# ------------------------------------------------------ a. size, queues
rc=0; msg=
for l in 0 1 2; do
    eval "dv=\$dev$l want=\$BYTES$l bs=\$BS$l"
    n=${dv#/dev/}
    got=$(( $(cat "/sys/block/$n/size") * 512 ))
    lbs=$(cat "/sys/block/$n/queue/logical_block_size")
    msg="$msg LUN $l: $got bytes, $lbs-byte blocks;"
    if [ "$got" -ne "$want" ] || [ "$lbs" -ne "$bs" ]; then
        rc=1
        msg="$msg (expected $want bytes, $bs-byte blocks)"
    fi
done
g_result disk-sizes "$rc" "$msg"

n0=${dev0#/dev/}
hwq=$(ls -d "/sys/block/$n0/mq/"* 2>/dev/null | wc -l)
if [ "$hwq" -eq "$EXPECT_HWQ" ]; then
    g_ok hw-queues "$hwq"
else
    g_not_ok hw-queues "guest uses $hwq request queues, expected $EXPECT_HWQ"
fi

# ------------------------------------------------------ b. TEST UNIT READY
rc=0; msg=
for l in 0 1 2; do
    eval "sg=\$sg$l"
    run /tmp/turs sg_turs "$sg" || { rc=1; msg="$msg LUN $l: $(err /tmp/turs);"; }
done
g_result sg-turs "$rc" "${msg:-all three LUNs ready}"

# ------------------------------------------------------ c. INQUIRY
# Standard data: PQ 0, PDT 0 (disk), response data format 2, additional
# length >= 31, vendor and product printable and not blank.
rc=0; msg=
for l in 0 1 2; do
    eval "sg=\$sg$l"
    f=/tmp/inq$l
    if ! run "$f" sg_inq --raw "$sg"; then
        rc=1; msg="$msg LUN $l: sg_inq failed: $(err "$f");"; continue
    fi
    b0=$(byte "$f" 0); b3=$(byte "$f" 3); b4=$(byte "$f" 4)
    vendor=$(text "$f" 8 8); product=$(text "$f" 16 16)
    msg="$msg LUN $l: byte0=$b0 format=$(( ${b3:-0} % 16 )) addlen=$b4 vendor='$vendor' product='$product';"
    if [ "${b0:-x}" != 0 ] || [ $(( ${b3:-0} % 16 )) -ne 2 ] || [ "${b4:-0}" -lt 31 ] ||
       [ -z "$(echo "$vendor" | tr -d ' ')" ] || [ -z "$(echo "$product" | tr -d ' ')" ] ||
       ! printable "$f" 8 24; then
        rc=1
    fi
done
g_result inquiry-standard "$rc" "$msg"

# Invalid field: standard INQUIRY (EVPD 0) with a page code.
run /tmp/inqbad sg_raw -r 255 "$sg0" 12 00 80 00 ff 00
out=$(cat /tmp/inqbad /tmp/inqbad.err)
if echo "$out" | grep -q 'Illegal Request' && echo "$out" | grep -qi 'Invalid field in cdb'; then
    g_ok invalid-field-in-cdb "INQUIRY EVPD=0 page 0x80: ILLEGAL REQUEST, INVALID FIELD IN CDB"
else
    g_not_ok invalid-field-in-cdb "INQUIRY EVPD=0 page 0x80: $(echo "$out" | tr '\n' ' ' | cut -c1-300)"
fi

# ------------------------------------------------------ d. VPD pages
# vpd SG PAGE FILE: read the page raw; page code and length must fit.
vpd() {
    run "$3" sg_vpd --page="$2" --raw "$1" || { echo "sg_vpd --page=$2 failed: $(err "$3")"; return 1; }
    _pc=$(byte "$3" 1)
    _len=$(be "$3" 2 2)
    _size=$(wc -c < "$3")
    if [ "${_pc:-x}" != $(($2)) ]; then
        echo "page $2: page code byte is ${_pc:-missing}"; return 1
    fi
    if [ $((_len + 4)) -gt "$_size" ]; then
        echo "page $2: page length $_len, but only $_size bytes returned"; return 1
    fi
    return 0
}

# Page 0x00 lists the pages; each listed page must be readable.  LUN 0 (the
# one with a serial) must list 00 80 83 b0 b1 b2, LUN 1 00 83 b0 b1 b2, and
# the read-only LUN 2 (no UNMAP, so no provisioning page needed) 00 83 b0 b1.
rc=0; msg=
for l in 0 1 2; do
    eval "sg=\$sg$l"
    f=/tmp/vpd00-$l
    if ! m=$(vpd "$sg" 0x00 "$f"); then
        rc=1; msg="$msg LUN $l: $m;"; continue
    fi
    pages=$(bytes "$f" | awk '{ n = split($0, b, " "); e = 4 + b[3] * 256 + b[4]
        for (i = 5; i <= e && i <= n; i++) printf "%02x ", b[i] }')
    msg="$msg LUN $l: pages $pages;"
    case $l in
        0) need="00 80 83 b0 b1 b2" ;;
        1) need="00 83 b0 b1 b2" ;;
        *) need="00 83 b0 b1" ;;
    esac
    for p in $need; do
        case " $pages" in *" $p "*) ;; *) rc=1; msg="$msg missing $p;" ;; esac
    done
    for p in $pages; do
        m=$(vpd "$sg" "0x$p" "/tmp/vpd$p-$l") || { rc=1; msg="$msg $m;"; }
    done
done
g_result vpd-supported-pages "$rc" "$msg"

# 0x80: LUN 0's serial is the one given on the daemon's command line.
f=/tmp/vpd80-0
if m=$(vpd "$sg0" 0x80 "$f"); then
    serial=$(text "$f" 4 "$(be "$f" 2 2)")
    if [ "$serial" = "$SERIAL0" ]; then
        g_ok vpd-serial "LUN 0 serial '$serial'"
    else
        g_not_ok vpd-serial "LUN 0 serial '$serial', expected '$SERIAL0'"
    fi
else
    g_not_ok vpd-serial "$m"
fi

# 0x83: an NAA designator for the LU (type 3, association 0) with a valid
# NAA field and length, different for the two LUNs; the host passes
# them to the second boot, which must see the same ones.
naa0=$(naa_of "$sg0"); naa1=$(naa_of "$sg1")
g_diag "naa lun0=$naa0 lun1=$naa1"
naa_ok() {
    case "$1" in
        [235]???????????????) return 0 ;;
        6???????????????????????????????) return 0 ;;
    esac
    return 1
}
if naa_ok "$naa0" && naa_ok "$naa1" && [ "$naa0" != "$naa1" ]; then
    g_ok vpd-naa "LUN 0 $naa0, LUN 1 $naa1"
else
    g_not_ok vpd-naa "LUN 0 '${naa0:-none}', LUN 1 '${naa1:-none}': need a valid NAA designator per LUN, distinct"
fi
echo "@@ # naa-ident $naa0 $naa1"

# vpd_luns PAGE CHECK: VPD page PAGE of LUNs 0 and 1, each read into
# f=/tmp/vpdPAGE-l and looked at by CHECK (it adds to msg and sets rc=1 on
# a failure); rc and msg start afresh, and a page that does not read fails.
vpd_luns() {
    rc=0; msg=
    for l in 0 1; do
        eval "sg=\$sg$l"
        f=/tmp/vpd${1#0x}-$l
        if ! m=$(vpd "$sg" "$1" "$f"); then rc=1; msg="$msg LUN $l: $m;"; continue; fi
        "$2"
    done
}

# 0xb0 block limits: SBC-3 length 0x3c, non-zero UNMAP limits (the LUNs
# support UNMAP).
check_block_limits() {
    len=$(be "$f" 2 2); mxfer=$(be "$f" 8 4); mlba=$(be "$f" 20 4); mdesc=$(be "$f" 24 4)
    mws=$(be "$f" 36 8)
    msg="$msg LUN $l: length $len, max transfer $mxfer, max unmap lba $mlba, max unmap desc $mdesc, max write same $mws;"
    if [ "$len" -lt 60 ] || [ "$mlba" -eq 0 ] || [ "$mdesc" -eq 0 ]; then rc=1; fi
}
vpd_luns 0xb0 check_block_limits
g_result vpd-block-limits "$rc" "$msg"

# 0xb1 block device characteristics: length 0x3c.
check_characteristics() {
    len=$(be "$f" 2 2)
    msg="$msg LUN $l: length $len, rotation rate $(be "$f" 4 2);"
    [ "$len" -eq 60 ] || rc=1
}
vpd_luns 0xb1 check_characteristics
g_result vpd-block-characteristics "$rc" "$msg"

# 0xb2 logical block provisioning: LBPU (UNMAP) and LBPWS (WRITE SAME(16)
# with UNMAP) set, as the LUNs support both.
check_provisioning() {
    b5=$(byte "$f" 5)
    lbpu=$(( b5 >> 7 & 1 )); lbpws=$(( b5 >> 6 & 1 )); lbpws10=$(( b5 >> 5 & 1 ))
    lbprz=$(( b5 >> 2 & 7 ))
    eval "b2lbprz$l=\$lbprz"
    msg="$msg LUN $l: LBPU=$lbpu LBPWS=$lbpws LBPWS10=$lbpws10 LBPRZ=$lbprz type=$(( $(byte "$f" 6) & 7 ));"
    [ "$lbpu" = 1 ] && [ "$lbpws" = 1 ] || rc=1
}
vpd_luns 0xb2 check_provisioning
g_result vpd-provisioning "$rc" "$msg"

# ------------------------------------------------------ e. READ CAPACITY
rc=0; msg=
for l in 0 1 2; do
    eval "sg=\$sg$l want=\$BYTES$l bs=\$BS$l"
    f=/tmp/rc16-$l
    if ! run "$f" sg_readcap --long --raw "$sg"; then
        rc=1; msg="$msg LUN $l: READ CAPACITY(16) failed: $(err "$f");"; continue
    fi
    last=$(be "$f" 0 8); blen=$(be "$f" 8 4); b14=$(byte "$f" 14)
    lbpme=$(( b14 >> 7 & 1 )); lbprz=$(( b14 >> 6 & 1 ))
    msg="$msg LUN $l: $((last + 1)) blocks of $blen, LBPME=$lbpme LBPRZ=$lbprz;"
    if [ $((last + 1)) -ne $((want / bs)) ] || [ "$blen" -ne "$bs" ]; then
        rc=1; msg="$msg expected $((want / bs)) of $bs;"
    fi
    if [ "$l" != 2 ]; then
        eval "b2=\${b2lbprz$l:-}"
        # The LUNs support UNMAP: LBPME set, and LBPRZ the same as page
        # 0xb2's (whichever the back-end claims, the guest checks below
        # that unmapped ranges read as zeros).
        if [ "$lbpme" != 1 ] || [ -z "$b2" ] || [ $(( b2 & 1 )) -ne "$lbprz" ]; then
            rc=1; msg="$msg LBPME/LBPRZ wrong (page b2 LBPRZ ${b2:-?});"
        fi
    fi
    f=/tmp/rc10-$l
    if ! run "$f" sg_readcap --raw "$sg"; then
        rc=1; msg="$msg READ CAPACITY(10) failed: $(err "$f");"; continue
    fi
    if [ $(( $(be "$f" 0 4) + 1 )) -ne $((want / bs)) ] || [ "$(be "$f" 4 4)" -ne "$bs" ]; then
        rc=1; msg="$msg READ CAPACITY(10) says $(( $(be "$f" 0 4) + 1 )) of $(be "$f" 4 4);"
    fi
done
g_result read-capacity "$rc" "$msg"

# ------------------------------------------------------ f. REPORT LUNS
# Exactly LUNs 0, 1 and 2, asked through LUN 0 as the kernel's scan does
# (SPC requires REPORT LUNS of LUN 0 and of the well-known LU only).
f=/tmp/luns0
if run "$f" sg_luns --raw "$sg0"; then
    list=$(bytes "$f" | awk '{ n = split($0, b, " "); e = 8 + (b[1] * 16777216 + b[2] * 65536 + b[3] * 256 + b[4])
        for (p = 9; p + 7 <= e && p + 7 <= n; p += 8) {
            am = int(b[p] / 64)
            if ((am != 0 && am != 1) || b[p + 2] || b[p + 3] || b[p + 4] || b[p + 5] || b[p + 6] || b[p + 7])
                printf "bad:%02x%02x%02x%02x%02x%02x%02x%02x ", b[p], b[p+1], b[p+2], b[p+3], b[p+4], b[p+5], b[p+6], b[p+7]
            else
                printf "%d ", (b[p] % 64) * 256 + b[p + 1]
        } }' | tr ' ' '\n' | sed '/^$/d' | sort -n | tr '\n' ' ')
    rc=0
    [ "$list" = "0 1 2 " ] || rc=1
    msg="LUNs reported: $list"
else
    rc=1; msg="sg_luns failed: $(err "$f")"
fi
g_result report-luns "$rc" "$msg"

# ------------------------------------------------------ g. MODE SENSE
# modepage FILE HDRLEN: offset of the caching page (0x08) in a MODE SENSE
# response with a HDRLEN-byte header, after the block descriptors; prints
# "OFF WP" (WP from the device-specific parameter).
mode_hdr() {
    if [ "$2" = 8 ]; then
        echo "$(( 8 + $(be "$1" 6 2) )) $(( $(byte "$1" 3) >> 7 & 1 ))"
    else
        echo "$(( 4 + $(byte "$1" 3) )) $(( $(byte "$1" 2) >> 7 & 1 ))"
    fi
}

rc=0; msg=
for l in 0 1; do
    eval "sg=\$sg$l"
    for six in 0 1; do
        f=/tmp/mode08-$l-$six
        hdr=8; opt=
        [ "$six" = 1 ] && { hdr=4; opt=--six; }
        # shellcheck disable=SC2086
        if ! run "$f" sg_modes $opt --page=0x08 --raw "$sg"; then
            rc=1; msg="$msg LUN $l MODE SENSE($((10 - 4 * six))) failed: $(err "$f");"; continue
        fi
        # shellcheck disable=SC2046
        set -- $(mode_hdr "$f" "$hdr")
        p=$1
        pc=$(( $(byte "$f" "$p") & 63 )); plen=$(byte "$f" $((p + 1)))
        wce=$(( $(byte "$f" $((p + 2))) >> 2 & 1 ))
        msg="$msg LUN $l MS$((10 - 4 * six)): page 0x$(printf %02x "$pc") length ${plen:-?} WCE=$wce WP=$2;"
        if [ "$pc" -ne 8 ] || [ "${plen:-0}" -ne 18 ] || [ "$2" != 0 ]; then rc=1; fi
        if [ "$l" = 0 ] && [ "$wce" != 1 ]; then rc=1; msg="$msg LUN 0 is cache=$CACHE0: WCE must be 1;"; fi
    done
    ct=$(cat "$(ls -d "$(eval echo "\$sd$l")"/scsi_disk/* | head -n 1)/cache_type")
    msg="$msg kernel cache_type '$ct';"
    if [ "$l" = 0 ] && [ "$ct" != "write back" ]; then rc=1; fi
done
g_result mode-caching "$rc" "$msg"

# Page 0x3f: all pages, among them 0x08 (caching) and 0x0a (control).
rc=0
f=/tmp/mode3f
if run "$f" sg_modes --page=0x3f --raw "$sg0"; then
    # shellcheck disable=SC2046
    set -- $(mode_hdr "$f" 8)
    pages=$(bytes "$f" | awk -v p="$1" '{ n = split($0, b, " "); e = 2 + b[1] * 256 + b[2]
        if (e > n) e = n
        while (p + 2 <= e) { printf "%02x ", b[p + 1] % 64; p += 2 + b[p + 2] } }')
    msg="pages $pages"
    for p in 08 0a; do
        case " $pages" in *" $p "*) ;; *) rc=1; msg="$msg (no page $p)" ;; esac
    done
else
    rc=1; msg="sg_modes --page=0x3f failed: $(err "$f")"
fi
g_result mode-all-pages "$rc" "$msg"

# ------------------------------------------------------ h. opcodes
rc=0; msg=
for l in 0 1; do
    eval "sg=\$sg$l"
    f=/tmp/opc$l
    if ! run "$f" sg_opcodes --raw "$sg"; then
        rc=1; msg="$msg LUN $l: sg_opcodes failed: $(err "$f");"; continue
    fi
    ops=$(bytes "$f" | awk '{ n = split($0, b, " "); e = 4 + b[1] * 16777216 + b[2] * 65536 + b[3] * 256 + b[4]
        if (e > n) e = n
        for (p = 5; p + 7 <= e; ) { printf "%02x ", b[p]; p += (int(b[p + 5] / 2) % 2) ? 20 : 8 } }')
    msg="$msg LUN $l: $(echo "$ops" | wc -w) commands;"
    case " $ops" in *" 28 "*) ;; *) rc=1; msg="$msg no READ(10);" ;; esac
    case " $ops" in *" 2a "*) ;; *) rc=1; msg="$msg no WRITE(10);" ;; esac
done
g_result sg-opcodes "$rc" "$msg"

# ------------------------------------------------------ i. errors
# sense_is NAME FILE KEY ASC-TEXT DESC: the command's output (sg_raw prints
# the decoded sense) names sense key KEY and additional sense ASC-TEXT.
sense_is() {
    _out=$(cat "$2" "$2.err" 2>/dev/null)
    if echo "$_out" | grep -q "$3" && echo "$_out" | grep -qi "$4"; then
        g_ok "$1" "$5: $3, $4"
    else
        g_not_ok "$1" "$5: expected $3 / $4, got: $(echo "$_out" | tr '\n' ' ' | cut -c1-300)"
    fi
}

run /tmp/unk sg_raw "$sg0" c5 00 00 00 00 00 00 00 00 00
sense_is unknown-opcode /tmp/unk 'Illegal Request' 'Invalid command operation code' "opcode 0xc5"

# READ(16) of one block at LBA = capacity.
cap=$((BYTES0 / BS0))
lba=$(printf '%016x' "$cap" | sed 's/../& /g')
# shellcheck disable=SC2086
run /tmp/oor sg_raw -r "$BS0" "$sg0" 88 00 $lba 00 00 00 01 00 00
sense_is lba-out-of-range /tmp/oor 'Illegal Request' 'Logical block address out of range' "READ(16) at LBA $cap"

# Read-only LUN 2: the kernel sees it write-protected, a WRITE(10) through
# sg gets DATA PROTECT, and it reads what the host put there.
dd if=/dev/zero of=/tmp/zero512 bs=512 count=1 2>/dev/null
run /tmp/rowr sg_raw -s 512 -i /tmp/zero512 "$sg2" 2a 00 00 00 00 00 00 00 01 00
sense_is readonly-write-protect /tmp/rowr 'Data Protect' 'Write protected' "WRITE(10) to read-only LUN 2"
ro=$(cat "/sys/block/${dev2#/dev/}/ro")
if [ "$ro" = 1 ] && dd if="$dev2" bs=65536 count=1 iflag=direct 2>/dev/null | cmp -s - /data/ro-head; then
    g_ok readonly-lun "kernel marks LUN 2 read-only and reads the host's data"
else
    g_not_ok readonly-lun "LUN 2: /sys/block/.../ro=$ro, first 64 KiB $(dd if="$dev2" bs=65536 count=1 iflag=direct 2>/dev/null | cmp -s - /data/ro-head && echo match || echo differ)"
fi

# ------------------------------------------------------ j. SYNCHRONIZE CACHE
rc=0; msg=
for l in 0 1; do
    eval "sg=\$sg$l"
    run /tmp/sync sg_sync "$sg" || { rc=1; msg="$msg LUN $l SYNCHRONIZE CACHE(10): $(err /tmp/sync);"; }
    run /tmp/sync sg_sync --16 "$sg" || { rc=1; msg="$msg LUN $l SYNCHRONIZE CACHE(16): $(err /tmp/sync);"; }
done
g_result sg-sync "$rc" "${msg:-SYNCHRONIZE CACHE(10) and (16) on LUNs 0 and 1}"

# -------------------------------------------------- k. fio on both LUNs
# Per-queue completion interrupts ("virtioN-request" lines, one per request
# queue, keyed by IRQ number).
queue_irqs() {
    awk '$NF ~ /^virtio[0-9]+-request$/ {
        s = 0
        for (i = 2; i <= NF; i++) { if ($i ~ /^[0-9]+$/) s += $i; else break }
        sub(/:$/, "", $1)
        print $1, s
    }' /proc/interrupts
}

JOBS=2
fio_args="--direct=1 --ioengine=$AIO --iodepth=32 --rw=randwrite
 --bssplit=4k/50:16k/30:64k/20 --size=${FIO_MB}M --offset=0
 --verify=crc32c --verify_fatal=1 --randseed=$FIO_SEED
 --name=lun0 --filename=$dev0 --cpus_allowed=0
 --name=lun1 --filename=$dev1 --cpus_allowed=$((1 % VCPUS))"

# fio_start [ARGS...] / fio_wait NAME NJOBS: fio in the background, then
# wait for it (stall watchdog); it must exit 0 with err=0 for every job.
fio_start() {
    # shellcheck disable=SC2086
    fio "$@" > /tmp/fio.out 2>&1 &
    _pid=$!
    _t0=$(g_uptime)
}
FIO_STALL_SECS=${FIO_STALL_SECS:-100}
fio_wait() {
    _secs=0
    _stalled=0
    while kill -0 "$_pid" 2>/dev/null; do
        sleep 1
        _secs=$((_secs + 1))
        if [ "$_secs" -eq "$FIO_STALL_SECS" ]; then
            _stalled=1
            g_stall_report "$1" "$_pid" "$dev0" "$dev1"
        fi
    done
    _rc=0
    wait "$_pid" || _rc=$?
    _ok=$(grep -c 'err= 0' /tmp/fio.out)
    _bad=$(grep -cE 'err= *[1-9]' /tmp/fio.out)
    grep -E 'err=|IOPS=' /tmp/fio.out
    if [ "$_stalled" -eq 1 ]; then
        cat /tmp/fio.out
        g_not_ok "$1" "fio stalled for ${FIO_STALL_SECS}s (see the STALL lines)"
    elif [ "$_rc" -eq 0 ] && [ "$_ok" -eq "$2" ] && [ "$_bad" -eq 0 ]; then
        g_ok "$1" "$2 job(s), $(g_elapsed "$_t0")s"
    else
        cat /tmp/fio.out
        g_not_ok "$1" "fio exit status $_rc, $_ok/$2 jobs with err=0, $_bad with errors"
    fi
}

queue_irqs > /tmp/irq.before
# shellcheck disable=SC2086
fio_start $fio_args
fio_wait fio-write-verify "$JOBS"
# shellcheck disable=SC2086
fio_start $fio_args --verify_only
fio_wait fio-verify-only "$JOBS"
queue_irqs > /tmp/irq.after

idle=$(awk 'NR == FNR { b[$1] = $2; next } { if ($2 - b[$1] <= 0) print $1 }' \
       /tmp/irq.before /tmp/irq.after)
nq=$(wc -l < /tmp/irq.after)
g_diag "completion interrupts per request queue during fio: $(awk 'NR == FNR { b[$1] = $2; next } { printf "irq%s=%d ", $1, $2 - b[$1] }' /tmp/irq.before /tmp/irq.after)"
if [ "$nq" -eq "$EXPECT_HWQ" ] && [ -z "$idle" ]; then
    g_ok io-on-all-queues "$nq request queue(s)"
else
    g_not_ok io-on-all-queues "$nq request queue interrupt line(s), expected $EXPECT_HWQ; without I/O: ${idle:-none}"
fi

# ------------------------------------------------------ l. pattern write
rc=0; msg=
for l in 0 1; do
    eval "dv=\$dev$l"
    if ! dd if="/data/pattern-lun$l" of="$dv" bs="$PAT_LEN" count=1 seek="$PAT_OFF" \
            oflag=direct,seek_bytes conv=notrunc 2>/dev/null; then
        rc=1; msg="$msg LUN $l: dd write failed;"
    elif ! dd if="$dv" bs="$PAT_LEN" count=1 skip="$PAT_OFF" iflag=direct,skip_bytes 2>/dev/null |
            cmp -s - "/data/pattern-lun$l"; then
        rc=1; msg="$msg LUN $l: read back differs;"
    fi
done
g_result pattern-write "$rc" "${msg:-$PAT_LEN bytes at $PAT_OFF on LUNs 0 and 1, read back with O_DIRECT}"

# ------------------------------------ m. UNMAP, WRITE SAME, blkdiscard
rc=0; msg=
for l in 0 1; do
    eval "dv=\$dev$l"
    for r in UNMAP WSU WSZ WSP DISC; do
        eval "o=\$${r}_OFF n=\$${r}_LEN"
        z=$(zero_bytes "$dv" "$o" "$n")
        [ "$z" -eq 0 ] || { rc=1; msg="$msg LUN $l $r: $z zero bytes;"; }
    done
done
g_result prefill-visible "$rc" "${msg:-all ranges hold the non-zero fill of the host}"

# range_zero NAME DEV OFF LEN RC WHAT: RC is the command's status.
range_zero() {
    _z=$(zero_bytes "$2" "$3" "$4")
    if [ "$5" -ne 0 ]; then
        echo "$6 failed (status $5)"; return 1
    elif [ "$_z" -ne "$4" ]; then
        echo "after $6 only $_z of $4 bytes read as zero"; return 1
    fi
    return 0
}

# UNMAP with two descriptors (the two halves of the range).
rc=0; msg=
for l in 0 1; do
    eval "dv=\$dev$l sg=\$sg$l bs=\$BS$l"
    lba=$((UNMAP_OFF / bs)); half=$((UNMAP_LEN / bs / 2))
    s=0
    run /tmp/unmap sg_unmap --lba=$lba,$((lba + half)) --num=$half,$half "$sg" || s=$?
    m=$(range_zero x "$dv" "$UNMAP_OFF" "$UNMAP_LEN" "$s" "sg_unmap") ||
        { rc=1; msg="$msg LUN $l: $m $(err /tmp/unmap);"; }
done
g_result unmap-reads-zero "$rc" "${msg:-UNMAP of $UNMAP_LEN bytes (2 descriptors) on LUNs 0 and 1}"

# ws_reads_zero NAME OFF LEN WHAT PASS OPTION...: sg_write_same with OPTIONs
# over OFF..OFF+LEN of LUNs 0 and 1; the range must then read as zeros.
ws_reads_zero() {
    _name=$1 _off=$2 _len=$3 _what=$4 _pass=$5
    shift 5
    rc=0; msg=
    for l in 0 1; do
        eval "dv=\$dev$l sg=\$sg$l bs=\$BS$l"
        s=0
        run /tmp/ws sg_write_same "$@" --lba=$((_off / bs)) --num=$((_len / bs)) "$sg" || s=$?
        m=$(range_zero x "$dv" "$_off" "$_len" "$s" "$_what") ||
            { rc=1; msg="$msg LUN $l: $m $(err /tmp/ws);"; }
    done
    g_result "$_name" "$rc" "${msg:-$_pass on LUNs 0 and 1}"
}

ws_reads_zero write-same-unmap-reads-zero "$WSU_OFF" "$WSU_LEN" \
    "WRITE SAME(16) UNMAP" "WRITE SAME(16) with UNMAP" --16 --unmap
ws_reads_zero write-same-zero-reads-zero "$WSZ_OFF" "$WSZ_LEN" \
    "WRITE SAME(10) of zeros" "WRITE SAME(10) of a zero block" --10

# WRITE SAME(16) of a non-zero block: every block of the range holds it.
rc=0; msg=
for l in 0 1; do
    eval "dv=\$dev$l sg=\$sg$l bs=\$BS$l"
    head -c "$bs" /data/wsblock > /tmp/wsb
    s=0
    run /tmp/ws sg_write_same --16 --in=/tmp/wsb --xferlen="$bs" \
        --lba=$((WSP_OFF / bs)) --num=$((WSP_LEN / bs)) "$sg" || s=$?
    if [ "$s" -ne 0 ]; then
        rc=1; msg="$msg LUN $l: sg_write_same failed (status $s): $(err /tmp/ws);"; continue
    fi
    # The expected range: the block doubled until it is WSP_LEN long.
    cp /tmp/wsb /tmp/wsexp
    while [ "$(wc -c < /tmp/wsexp)" -lt "$WSP_LEN" ]; do
        cat /tmp/wsexp /tmp/wsexp > /tmp/wsexp2 && mv /tmp/wsexp2 /tmp/wsexp
    done
    dd if="$dv" of=/tmp/wsread bs=$MiB skip=$((WSP_OFF / MiB)) count=$((WSP_LEN / MiB)) iflag=direct 2>/dev/null
    if ! cmp -n "$WSP_LEN" /tmp/wsread /tmp/wsexp > /tmp/wscmp 2>&1; then
        rc=1; msg="$msg LUN $l: range differs from the block repeated: $(head -n 1 /tmp/wscmp);"
    fi
done
g_result write-same-pattern "$rc" "${msg:-WRITE SAME(16) of a data block replicated over $WSP_LEN bytes on LUNs 0 and 1}"

rc=0; msg=
for l in 0 1; do
    eval "dv=\$dev$l"
    n=${dv#/dev/}
    g_diag "LUN $l: discard_max_bytes=$(cat "/sys/block/$n/queue/discard_max_bytes") provisioning_mode=$(cat "$(eval echo "\$sd$l")"/scsi_disk/*/provisioning_mode)"
    s=0
    blkdiscard -f -o "$DISC_OFF" -l "$DISC_LEN" "$dv" > /tmp/disc 2>&1 || s=$?
    m=$(range_zero x "$dv" "$DISC_OFF" "$DISC_LEN" "$s" "blkdiscard") ||
        { rc=1; msg="$msg LUN $l: $m $(grep -v 'Operation forced' /tmp/disc | tr '\n' ' ');"; }
done
g_result discard-reads-zero "$rc" "${msg:-blkdiscard of $DISC_LEN bytes on LUNs 0 and 1}"

# ------------------------------------------------------------- n. ext4
g_ext4_checks "$dev0" "$FS_MB"

# ------------------------------------------------------------ o. resets
# Last, since a reset the back-end never answers hangs the guest's error
# handler.  sg_reset -d sends LOGICAL UNIT RESET on the control queue; it
# must succeed while fio writes and verifies on LUN 0, fio must see no
# error (commands the reset ends come back RESET and the kernel retries
# them), and the LUN must be "running" after it.
# reset_bg OUT ARGS...: sg_reset in the background, at most 30 s.
reset_run() {
    _o=$1; shift
    sg_reset "$@" > "$_o" 2>&1 &
    _rp=$!
    _i=0
    while kill -0 "$_rp" 2>/dev/null && [ "$_i" -lt 300 ]; do
        sleep 0.1
        _i=$((_i + 1))
    done
    if kill -0 "$_rp" 2>/dev/null; then
        echo "sg_reset $* did not return within 30 s" >> "$_o"
        hung=1
        return 124
    fi
    wait "$_rp"
}

hung=0
state() { cat "$(eval echo "\$sd$1")/state"; }
fio_start --name=reset --filename="$dev0" --offset="$RST_OFF" --size="${RST_MB}M" \
    --direct=1 --ioengine="$AIO" --iodepth=32 --rw=randwrite --bs=4k --loops=4 \
    --verify=crc32c --verify_fatal=1 --randseed="$FIO_SEED"
sleep 2
resets=0; rfail=0; msg=
while kill -0 "$_pid" 2>/dev/null && [ "$hung" = 0 ] && [ "$resets" -lt 5 ]; do
    s=0
    reset_run /tmp/rst -d "$sg0" || s=$?
    resets=$((resets + 1))
    [ "$s" -eq 0 ] || { rfail=$((rfail + 1)); msg="$msg reset $resets: status $s: $(tr '\n' ' ' < /tmp/rst);"; }
    sleep 1
done
if [ "$hung" = 1 ]; then
    kill -9 "$_pid" 2>/dev/null
    g_not_ok lun-reset-during-io "$msg"
else
    # Report fio first (its own check), then the resets.
    fio_wait fio-across-lun-resets 1
    if [ "$resets" -lt 2 ]; then
        g_not_ok lun-reset-during-io "fio ended after $resets reset(s): too short to overlap (raise RST_MB)"
    elif [ "$rfail" -ne 0 ] || [ "$(state 0)" != running ]; then
        g_not_ok lun-reset-during-io "$rfail of $resets device resets failed;$msg LUN 0 state $(state 0)"
    else
        g_ok lun-reset-during-io "$resets device resets of LUN 0 while fio ran, LUN 0 $(state 0)"
    fi
fi

# sg_reset -t asks for a target reset.  Linux's virtio_scsi has no target
# (nor bus, nor host) reset handler, so the kernel sends nothing and the
# ioctl fails with EIO; what matters is that the LUNs work afterwards.
# Then an idle device reset, and O_DIRECT I/O on both LUNs: the probe goes
# to PROBE_OFF on LUN 0, where the host looks for it.
if [ "$hung" = 0 ]; then
    s=0
    reset_run /tmp/rst -t "$sg0" || s=$?
    g_diag "sg_reset -t: status $s: $(tr '\n' ' ' < /tmp/rst)"
fi
if [ "$hung" = 0 ]; then
    s=0
    reset_run /tmp/rst -d "$sg1" || s=$?
    g_result lun-reset-idle "$s" "sg_reset -d on LUN 1: status $s $(tr '\n' ' ' < /tmp/rst)"
else
    g_not_ok lun-reset-idle "not run: an earlier reset hung"
fi
if [ "$hung" = 0 ]; then
    rc=0; msg=
    dd if=/data/probe of="$dev0" bs=4096 count=1 seek="$PROBE_OFF" oflag=direct,seek_bytes conv=notrunc 2>/dev/null ||
        { rc=1; msg="$msg write to LUN 0 failed;"; }
    dd if="$dev0" bs=4096 count=1 skip="$PROBE_OFF" iflag=direct,skip_bytes 2>/dev/null | cmp -s - /data/probe ||
        { rc=1; msg="$msg LUN 0 read back differs;"; }
    dd if="$dev1" bs="$PAT_LEN" count=1 skip="$PAT_OFF" iflag=direct,skip_bytes 2>/dev/null | cmp -s - /data/pattern-lun1 ||
        { rc=1; msg="$msg LUN 1 pattern read back differs;"; }
    for l in 0 1 2; do
        [ "$(state $l)" = running ] || { rc=1; msg="$msg LUN $l state $(state $l);"; }
    done
    g_result io-after-resets "$rc" "${msg:-O_DIRECT write and reads on LUNs 0 and 1 after the resets, all LUNs running}"
else
    g_not_ok io-after-resets "not run: an earlier reset hung"
fi

g_diag "test took $(g_elapsed "$t_start")s in the guest"
g_finish
