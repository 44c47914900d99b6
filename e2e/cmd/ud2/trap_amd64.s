#include "textflag.h"

// func ud2()
TEXT ·ud2(SB), NOSPLIT, $0-0
	BYTE $0x0F
	BYTE $0x0B
	RET
