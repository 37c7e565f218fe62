; mkbundle's KVM probe: a 64 KiB firmware image for qemu -bios. The CPU starts at the
; reset vector (the image's last 16 bytes), which jumps to the code at offset 0, seen at
; F000:0000. The code enters 32-bit protected mode, turns on PAE paging and long mode,
; runs a busy loop (a guest that executes nothing at speed fails here), prints the marker
; on COM1 and triple-faults, which ends QEMU under -no-reboot.
BASE equ 0xF0000
COM1 equ 0x3F8
LOOPS equ 20000000

bits 16
org 0
start:
  cli
  xor ax, ax
  mov ss, ax
  mov sp, 0x7000
  mov ax, cs
  mov ds, ax
  o32 lgdt [gdtr]
  mov eax, cr0
  or al, 1
  mov cr0, eax
  jmp dword 0x08:(BASE + pm32)

bits 32
pm32:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  ; identity-map the first 2 MiB: PML4 at 0x1000, PDPT at 0x2000, PD at 0x3000
  mov edi, 0x1000
  xor eax, eax
  mov ecx, 0x3000 / 4
  rep stosd
  mov dword [0x1000], 0x2003
  mov dword [0x2000], 0x3003
  mov dword [0x3000], 0x83
  mov eax, cr4
  or eax, 0x20                ; PAE
  mov cr4, eax
  mov eax, 0x1000
  mov cr3, eax
  mov ecx, 0xC0000080         ; EFER
  rdmsr
  or eax, 0x100               ; LME
  wrmsr
  mov eax, cr0
  or eax, 0x80000000          ; PG
  mov cr0, eax
  jmp 0x18:(BASE + lm64)

bits 64
lm64:
  mov ecx, LOOPS
.spin:
  dec ecx
  jnz .spin
  mov esi, BASE + marker
  mov dx, COM1
.next:
  lodsb
  test al, al
  jz .done
  out dx, al
  jmp .next
.done:
  lidt [BASE + nullidt]
  int3                        ; no IDT: triple fault, and QEMU exits (-no-reboot)

align 8
gdt:
  dq 0
  dq 0x00CF9A000000FFFF       ; 0x08: 32-bit code
  dq 0x00CF92000000FFFF       ; 0x10: data
  dq 0x00AF9A000000FFFF       ; 0x18: 64-bit code
gdtr:
  dw gdtr - gdt - 1
  dd BASE + gdt
nullidt:
  dw 0
  dq 0
marker:
  db "MKBUNDLE-KVM-PROBE-OK", 10, 0

times 0xFFF0 - ($ - $$) db 0
bits 16
reset:
  jmp 0xF000:start
times 0x10000 - ($ - $$) db 0
